/**
 * Reads a WAL directory as a stream of events (issue "Streaming reads"), one segment in memory at
 * a time, without the lock and without changing a byte.
 *
 * The segment holding `fromSeq` is found by file name; each segment is checked the way recovery
 * checks it (bounds, checksum, sequence continuity). A problem in the last segment is read as the
 * end of the log — it may be a batch being written right now — and a problem anywhere else fails
 * the stream with the same typed error open would give.
 */
import { Effect, type FileSystem, type Path, Stream } from "effect"
import type { ReplayedEvent } from "../../SignalEvent.ts"
import type { CorruptionError, IoError, UnsupportedVersionError } from "../../WalError.ts"
import { readEventRecord } from "../format/eventRecord.ts"
import { EVENT_RECORD_BYTES } from "../format/layout.ts"
import { readWholeFile } from "../fs/durable.ts"
import { isTornWriteProblem } from "../recovery/recoveryPlan.ts"
import { listSegmentFiles, type SegmentFile } from "../segment/segmentCatalog.ts"
import {
  nameMismatchProblem,
  problemError,
  type ScanProblem,
  scanSegment
} from "../segment/segmentScanner.ts"

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
    Effect.map(listSegmentFiles(fs, path, dir), (files) => {
      let start = 0
      files.forEach((file, index) => {
        if (file.firstSeq <= range.fromSeq) start = index
      })
      const selected = files.slice(start)
      let expectedSeq: bigint | undefined
      // Segments are read one after another, and a segment's events are decoded before the next
      // is read: one buffer serves them all.
      const segmentBuffer = { buffer: new Uint8Array(0) }
      return Stream.fromIterable(
        selected.map((file, index) => ({ file, isLast: index === selected.length - 1 }))
      ).pipe(
        Stream.flatMap(({ file, isLast }) =>
          Stream.unwrap(
            Effect.map(readWholeFile(fs, file.path, segmentBuffer), (bytes) => {
              const expected = expectedSeq ?? file.firstSeq
              const segment = segmentEvents(file, bytes, expected, range, isLast)
              expectedSeq = segment.nextSeq
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
  expectedFirstSeq: bigint,
  range: ReadRange,
  isLast: boolean
): { readonly stream: Stream.Stream<ReplayedEvent, ReadError>; readonly nextSeq: bigint } => {
  const batches: Array<BatchLocation> = []
  const scan =
    expectedFirstSeq === file.firstSeq
      ? scanSegment(bytes, expectedFirstSeq, (batch) => {
          batches.push({
            payloadOffset: batch.payload.byteOffset - bytes.byteOffset,
            firstSeq: batch.header.firstSeq,
            eventCount: batch.header.eventCount
          })
        })
      : undefined
  const problem: ScanProblem | undefined =
    scan === undefined ? nameMismatchProblem(file.firstSeq, expectedFirstSeq) : scan.problem
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const events = Stream.fromIteratorSucceed(eventsOf(view, batches, range), CHUNK_EVENTS)
  const failure =
    problem === undefined || (isLast && isTornWriteProblem(problem))
      ? undefined
      : problemError(file.path, problem)
  return {
    stream: failure === undefined ? events : Stream.concat(events, Stream.fail(failure)),
    nextSeq: (scan?.lastSeq ?? expectedFirstSeq - 1n) + 1n
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
