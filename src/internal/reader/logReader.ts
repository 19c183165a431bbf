/**
 * Reads a WAL directory as a stream of events (issue "Streaming reads"), one segment in memory at
 * a time, without the lock and without changing a byte.
 *
 * The segment holding `fromSeq` is found by file name; each segment is checked by the rule open
 * uses (segment/logRule.ts: bounds, checksum, sequence continuity, the checkpoint). Damage that
 * rule calls a torn tail is read as the end of the log — it may be a batch being written right
 * now — and anything else fails the stream with the same typed error open would give.
 */
import { Effect, type FileSystem, type Path, Stream } from "effect"
import type { ReplayedEvent } from "../../SignalEvent.ts"
import type { CorruptionError, IoError, UnsupportedVersionError } from "../../WalError.ts"
import { readCheckpoint } from "../checkpoint/checkpointStore.ts"
import { readEventRecord } from "../format/eventRecord.ts"
import { EVENT_RECORD_BYTES } from "../format/layout.ts"
import { readWholeFile } from "../fs/durable.ts"
import { classifyDamage, expectedFirstSeq, mismatchedNameScan } from "../segment/logRule.ts"
import { listSegmentFiles, type SegmentFile } from "../segment/segmentCatalog.ts"
import { problemError, scanSegment } from "../segment/segmentScanner.ts"

export type ReadError = IoError | CorruptionError | UnsupportedVersionError

export interface ReadRange {
  readonly fromSeq: bigint
  /** Inclusive; no bound when undefined. */
  readonly toSeq?: bigint | undefined
}

/** Events per emitted chunk: bounds the objects alive at once, whatever the segment size. */
const CHUNK_EVENTS = 4096

export const readLog = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  dir: string,
  range: ReadRange
): Stream.Stream<ReplayedEvent, ReadError> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const checkpoint = (yield* readCheckpoint(fs, path, dir)).sequence
      const files = yield* listSegmentFiles(fs, path, dir)
      let start = 0
      files.forEach((file, index) => {
        if (file.firstSeq <= range.fromSeq) start = index
      })
      const selected = files.slice(start)
      // The first segment of the directory is held to the rule; one found by name mid-log is
      // trusted to start where its name says, and every later one must continue it.
      let previousLastSeq: bigint | undefined = start === 0 ? undefined : (selected[0]?.firstSeq ?? 1n) - 1n
      // Segments are read one after another, and a segment's events are decoded before the next
      // is read: one buffer serves them all.
      const segmentBuffer = { buffer: new Uint8Array(0) }
      const context = { checkpoint, range }
      return Stream.fromIterable(
        selected.map((file, index) => ({ file, isLast: index === selected.length - 1 }))
      ).pipe(
        Stream.flatMap(({ file, isLast }) =>
          Stream.unwrap(
            Effect.map(readWholeFile(fs, file.path, segmentBuffer), (bytes) => {
              const segment = segmentEvents(file, bytes, previousLastSeq, context, isLast)
              previousLastSeq = segment.lastSeq
              return segment.stream
            })
          )
        ),
        Stream.takeWhile((event) => range.toSeq === undefined || event.seq <= range.toSeq)
      )
    })
  )

// internals

interface BatchLocation {
  readonly payloadOffset: number
  readonly firstSeq: bigint
  readonly eventCount: number
}

const segmentEvents = (
  file: SegmentFile,
  bytes: Uint8Array,
  previousLastSeq: bigint | undefined,
  context: { readonly checkpoint: bigint; readonly range: ReadRange },
  isLast: boolean
): { readonly stream: Stream.Stream<ReplayedEvent, ReadError>; readonly lastSeq: bigint } => {
  const batches: Array<BatchLocation> = []
  const expectedSeq = expectedFirstSeq(file.firstSeq, previousLastSeq, context.checkpoint)
  const scan =
    expectedSeq === file.firstSeq
      ? scanSegment(bytes, expectedSeq, (batch) => {
          batches.push({
            payloadOffset: batch.payload.byteOffset - bytes.byteOffset,
            firstSeq: batch.header.firstSeq,
            eventCount: batch.header.eventCount
          })
        })
      : mismatchedNameScan(file.firstSeq, expectedSeq)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const events = Stream.fromIteratorSucceed(eventsOf(view, batches, context.range), CHUNK_EVENTS)
  const damage =
    scan.problem === undefined
      ? undefined
      : classifyDamage(scan.problem, {
          bytes,
          isLastSegment: isLast,
          checkpoint: context.checkpoint,
          expectedSeq: scan.lastSeq + 1n
        })
  const failure =
    damage === undefined || damage._tag === "TornTail" ? undefined : problemError(file.path, damage.problem)
  return {
    stream: failure === undefined ? events : Stream.concat(events, Stream.fail(failure)),
    lastSeq: scan.lastSeq
  }
}

function* eventsOf(view: DataView, batches: ReadonlyArray<BatchLocation>, range: ReadRange) {
  for (const batch of batches) {
    const lastSeq = batch.firstSeq + BigInt(batch.eventCount) - 1n
    if (lastSeq < range.fromSeq) continue
    if (range.toSeq !== undefined && batch.firstSeq > range.toSeq) return
    const skip = batch.firstSeq >= range.fromSeq ? 0 : Number(range.fromSeq - batch.firstSeq)
    for (let i = skip; i < batch.eventCount; i++) {
      yield {
        seq: batch.firstSeq + BigInt(i),
        ...readEventRecord(view, batch.payloadOffset + i * EVENT_RECORD_BYTES)
      }
    }
  }
}
