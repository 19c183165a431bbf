/**
 * Reads a WAL directory as a stream of events (issue "Streaming reads"), one chunk of one segment
 * in memory at a time (segment/segmentScanner.ts), without the lock and without changing a byte.
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
import { type FileChunk, READ_CHUNK_BYTES, readFileChunk } from "../fs/durable.ts"
import { classifyDamage, expectedFirstSeq, mismatchedNameScan } from "../segment/logRule.ts"
import { listSegmentFiles, type SegmentFile } from "../segment/segmentCatalog.ts"
import { problemError, type SegmentScan, SegmentScanner } from "../segment/segmentScanner.ts"

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
      const context: ReadContext = {
        fs,
        checkpoint,
        range,
        // Chunks are read one after another, and a chunk's events are decoded before the next
        // is read: one buffer serves them all, and the damage search at the end.
        buffer: { buffer: new Uint8Array(0) },
        // The first segment of the directory is held to the rule; one found by name mid-log is
        // trusted to start where its name says, and every later one must continue it.
        previousLastSeq: start === 0 ? undefined : (selected[0]?.firstSeq ?? 1n) - 1n
      }
      return Stream.fromIterable(
        selected.map((file, index) => ({ file, isLast: index === selected.length - 1 }))
      ).pipe(
        Stream.flatMap(({ file, isLast }) => segmentEvents(file, isLast, context)),
        Stream.takeWhile((event) => range.toSeq === undefined || event.seq <= range.toSeq)
      )
    })
  )

// internals

interface ReadContext {
  readonly fs: FileSystem.FileSystem
  readonly checkpoint: bigint
  readonly range: ReadRange
  readonly buffer: { buffer: Uint8Array }
  /** Where the segment before the one being read ended (rule 1 of segment/logRule.ts). */
  previousLastSeq: bigint | undefined
}

interface BatchLocation {
  readonly payloadOffset: number
  readonly firstSeq: bigint
  readonly eventCount: number
}

/** The events of one segment, chunk by chunk, then its damage: the end of the log, or a failure. */
const segmentEvents = (
  file: SegmentFile,
  isLast: boolean,
  context: ReadContext
): Stream.Stream<ReplayedEvent, ReadError> =>
  Stream.unwrap(
    Effect.sync(() => {
      const expectedSeq = expectedFirstSeq(file.firstSeq, context.previousLastSeq, context.checkpoint)
      if (expectedSeq !== file.firstSeq) {
        const scan = mismatchedNameScan(file.firstSeq, expectedSeq)
        context.previousLastSeq = scan.lastSeq
        return endOfSegment(file, isLast, scan, undefined, context)
      }
      const batches: Array<BatchLocation> = []
      const scanner = new SegmentScanner(expectedSeq, (batch) => {
        batches.push({
          payloadOffset: batch.payload.byteOffset,
          firstSeq: batch.header.firstSeq,
          eventCount: batch.header.eventCount
        })
      })
      const fromChunk = (offsetBytes: number, lengthBytes: number): Stream.Stream<ReplayedEvent, ReadError> =>
        Stream.unwrap(
          Effect.map(
            readFileChunk(context.fs, file.path, offsetBytes, lengthBytes, context.buffer),
            (chunk) => {
              batches.length = 0
              scanner.startChunk(chunk.bytes, chunk.offsetBytes, chunk.reachesEndOfFile)
              const result = scanner.advance(Number.POSITIVE_INFINITY) ?? invariantBroken()
              const bytes = chunk.bytes
              const view = new DataView(bytes.buffer, 0, bytes.byteOffset + bytes.byteLength)
              const events = Stream.fromIteratorSucceed(
                eventsOf(view, batches.slice(), context.range),
                CHUNK_EVENTS
              )
              if (result._tag === "NeedsMore") {
                const next = Math.max(READ_CHUNK_BYTES, result.minLengthBytes)
                return Stream.concat(events, fromChunk(result.nextOffsetBytes, next))
              }
              context.previousLastSeq = result.scan.lastSeq
              return Stream.concat(events, endOfSegment(file, isLast, result.scan, chunk, context))
            }
          )
        )
      return fromChunk(0, READ_CHUNK_BYTES)
    })
  )

/**
 * Nothing more when the segment ended clean or in what the rule calls a torn tail (it may be a
 * batch being written right now); the typed error open would give for anything else.
 */
const endOfSegment = (
  file: SegmentFile,
  isLast: boolean,
  scan: SegmentScan,
  chunk: FileChunk | undefined,
  context: ReadContext
): Stream.Stream<never, ReadError> => {
  const problem = scan.problem
  if (problem === undefined) return Stream.empty
  return Stream.unwrap(
    Effect.map(
      classifyDamage(problem, {
        fs: context.fs,
        path: file.path,
        chunk,
        scratch: context.buffer,
        isLastSegment: isLast,
        checkpoint: context.checkpoint,
        expectedSeq: scan.lastSeq + 1n
      }),
      (damage) =>
        damage._tag === "TornTail" ? Stream.empty : Stream.fail(problemError(file.path, damage.problem))
    )
  )
}

const invariantBroken = (): never => {
  throw new Error("invariant: a scan without a budget ends its chunk")
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
