/**
 * Walks the batches of one segment and reports where its valid prefix ends, and why.
 *
 * Recovery, `verify` and the stream reader all use it. Sequence continuity is checked here too —
 * each batch's `first_seq` must follow the previous one, and the first batch must match the
 * number the file name promises — because a checksum alone cannot tell a batch from an old copy.
 *
 * A segment is scanned in chunks (docs/FORMAT.md, "Memory during recovery and reads"): each chunk
 * starts at a batch boundary and holds at most `READ_CHUNK_BYTES`, so a huge file — a sparse
 * segment extended to gigabytes, garbage past a torn tail — costs one chunk of memory, never its
 * size. A segment no larger than that (the default `segmentMaxBytes`) is still one read. No batch
 * is larger than `MAX_BATCH_BYTES`, so a length field claiming more is damage, not a reason to
 * read further.
 */
import { Effect, type FileSystem } from "effect"
import { WalConfigLimits } from "../../WalConfig.ts"
import {
  CorruptionError,
  type CorruptionReason,
  type IoError,
  UnsupportedVersionError
} from "../../WalError.ts"
import { type BatchHeader, type BatchInspection, batchSizeBytes, inspectBatch } from "../format/batchCodec.ts"
import { BATCH_HEADER_BYTES, BATCH_MAGIC, U64_MAX } from "../format/layout.ts"
import { type FileChunk, READ_CHUNK_BYTES, readFileChunk } from "../fs/durable.ts"

/** The largest batch there is: `batchMaxEvents` is at most 65,536 events (1,376,320 bytes). */
export const MAX_BATCH_BYTES = batchSizeBytes(WalConfigLimits.batchMaxEvents)

if (MAX_BATCH_BYTES > READ_CHUNK_BYTES) {
  throw new Error("invariant: a read chunk must hold the largest batch")
}

export interface ScannedBatch {
  /** Where the batch starts in the segment file. */
  readonly offsetBytes: number
  readonly header: BatchHeader
  /** The batch's payload: `eventCount` records of 21 bytes (a view into the chunk's bytes). */
  readonly payload: Uint8Array
}

export type ScanProblem =
  | {
      readonly _tag: "Invalid"
      readonly offsetBytes: number
      readonly reason: CorruptionReason
      readonly detail: string
    }
  | {
      readonly _tag: "Unsupported"
      readonly offsetBytes: number
      readonly version: number
      readonly flags: number
    }

export interface SegmentScan {
  /** Bytes from the start of the segment to the end of its last valid batch. */
  readonly validBytes: number
  readonly batchCount: number
  /** Sequence number of the last event of the last valid batch, or `expectedFirstSeq - 1`. */
  readonly lastSeq: bigint
  readonly problem: ScanProblem | undefined
}

/** How the scan of one chunk ended: the segment's scan is over, or it goes on in another chunk. */
export type ChunkScan =
  | { readonly _tag: "Ended"; readonly scan: SegmentScan }
  | {
      readonly _tag: "NeedsMore"
      /** Where the next chunk must start: the first batch this one did not hold whole. */
      readonly nextOffsetBytes: number
      /** The next chunk must hold at least this many bytes (the batch's claimed size). */
      readonly minLengthBytes: number
    }

/** `inspectBatch` within a chunk: `PastChunk` when the batch goes on past it, into the file. */
export type ChunkInspection = BatchInspection | { readonly _tag: "PastChunk"; readonly claimedBytes: number }

/**
 * Checks the batch at `offset` of a chunk (docs/FORMAT.md §2, in that order): a batch larger than
 * `MAX_BATCH_BYTES` is `BadPayloadLength` whatever its other fields; one that runs past the end of
 * a chunk that does not reach the end of the file is `PastChunk` — read on from its offset.
 */
export const inspectInChunk = (
  bytes: Uint8Array,
  offset: number,
  reachesEndOfFile: boolean
): ChunkInspection => {
  const claimedBytes = claimedBatchBytes(bytes, offset)
  if (claimedBytes !== undefined && claimedBytes > MAX_BATCH_BYTES) {
    return {
      _tag: "Invalid",
      reason: "BadPayloadLength",
      detail: `a batch of ${claimedBytes} bytes; no batch is larger than ${MAX_BATCH_BYTES}`
    }
  }
  const inspection = inspectBatch(bytes, offset)
  if (reachesEndOfFile || inspection._tag !== "Invalid" || inspection.reason !== "BatchPastEndOfFile")
    return inspection
  return { _tag: "PastChunk", claimedBytes: claimedBytes ?? BATCH_HEADER_BYTES }
}

/**
 * Scans `bytes` as a whole segment from offset 0, expecting its first batch to start at
 * `expectedFirstSeq`, and calls `onBatch` for every valid batch in order.
 */
export const scanSegment = (
  bytes: Uint8Array,
  expectedFirstSeq: bigint,
  onBatch: (batch: ScannedBatch) => void
): SegmentScan => {
  const scanner = new SegmentScanner(expectedFirstSeq, onBatch)
  scanner.startChunk(bytes, 0, true)
  for (;;) {
    const result = scanner.advance(Number.POSITIVE_INFINITY)
    if (result?._tag === "Ended") return result.scan
    if (result !== undefined) throw new Error("invariant: a chunk reaching the end of the file needs no more")
  }
}

/**
 * The scan of one segment, fed chunk by chunk (`startChunk`) and run in steps (`advance`), for a
 * caller that reads the next chunk, or lets other work run, in between.
 */
export class SegmentScanner {
  private readonly onBatch: (batch: ScannedBatch) => void
  private nextSeq: bigint
  private batchCount = 0
  private bytes: Uint8Array = new Uint8Array(0)
  private chunkOffsetBytes = 0
  private reachesEndOfFile = false
  /** Offset in the current chunk of the next batch to check. */
  private offset = 0
  private result: ChunkScan | undefined = { _tag: "NeedsMore", nextOffsetBytes: 0, minLengthBytes: 0 }

  constructor(expectedFirstSeq: bigint, onBatch: (batch: ScannedBatch) => void) {
    this.onBatch = onBatch
    this.nextSeq = expectedFirstSeq
  }

  /**
   * Goes on with the file's bytes from `offsetBytes`: exactly where the previous chunk asked
   * (0 for the first), at least as many as it asked for unless they reach the end of the file.
   */
  startChunk(bytes: Uint8Array, offsetBytes: number, reachesEndOfFile: boolean): void {
    const asked = this.result
    if (
      asked?._tag !== "NeedsMore" ||
      asked.nextOffsetBytes !== offsetBytes ||
      (bytes.byteLength < asked.minLengthBytes && !reachesEndOfFile)
    ) {
      throw new Error(`invariant: a chunk at ${offsetBytes} that the scan did not ask for`)
    }
    this.bytes = bytes
    this.chunkOffsetBytes = offsetBytes
    this.reachesEndOfFile = reachesEndOfFile
    this.offset = 0
    this.result = undefined
  }

  /**
   * Scans on for at least `budgetBytes` of the current chunk; how the chunk's scan ended once it
   * has, else `undefined`.
   */
  advance(budgetBytes: number): ChunkScan | undefined {
    if (this.result === undefined) this.result = this.scan(this.offset + budgetBytes)
    return this.result
  }

  private scan(untilOffset: number): ChunkScan | undefined {
    const bytes = this.bytes
    let offset = this.offset
    while (offset < bytes.byteLength) {
      if (offset >= untilOffset) {
        this.offset = offset
        return undefined
      }
      const inspection = inspectInChunk(bytes, offset, this.reachesEndOfFile)
      if (inspection._tag === "PastChunk") return this.needsMore(offset, inspection.claimedBytes)
      if (inspection._tag === "Invalid") return this.stop(offset, inspection.reason, inspection.detail)
      const { header, sizeBytes } = inspection
      if (inspection._tag === "Unsupported") {
        const problem: ScanProblem = {
          _tag: "Unsupported",
          offsetBytes: this.chunkOffsetBytes + offset,
          version: header.version,
          flags: header.flags
        }
        return this.ended(offset, problem)
      }
      if (header.firstSeq !== this.nextSeq) {
        const reason = this.chunkOffsetBytes + offset === 0 ? "SegmentNameMismatch" : "SequenceGap"
        return this.stop(offset, reason, `first_seq ${header.firstSeq}, expected ${this.nextSeq}`)
      }
      const lastSeq = header.firstSeq + BigInt(header.eventCount) - 1n
      if (lastSeq > U64_MAX) {
        return this.stop(offset, "SequenceGap", `last sequence number ${lastSeq} exceeds u64`)
      }
      this.onBatch({
        offsetBytes: this.chunkOffsetBytes + offset,
        header,
        payload: bytes.subarray(offset + BATCH_HEADER_BYTES, offset + sizeBytes)
      })
      this.batchCount++
      this.nextSeq = lastSeq + 1n
      offset += sizeBytes
    }
    return this.reachesEndOfFile ? this.ended(offset, undefined) : this.needsMore(offset, 0)
  }

  private needsMore(offset: number, claimedBytes: number): ChunkScan {
    // Progress: the next chunk starts further on, or is longer than this one.
    if (offset === 0 && claimedBytes <= this.bytes.byteLength) {
      throw new Error(
        `invariant: the chunk at ${this.chunkOffsetBytes} holds no whole batch and asks for no more`
      )
    }
    return {
      _tag: "NeedsMore",
      nextOffsetBytes: this.chunkOffsetBytes + offset,
      minLengthBytes: claimedBytes
    }
  }

  private stop(offset: number, reason: CorruptionReason, detail: string): ChunkScan {
    return this.ended(offset, {
      _tag: "Invalid",
      offsetBytes: this.chunkOffsetBytes + offset,
      reason,
      detail
    })
  }

  private ended(offset: number, problem: ScanProblem | undefined): ChunkScan {
    return {
      _tag: "Ended",
      scan: {
        validBytes: this.chunkOffsetBytes + offset,
        batchCount: this.batchCount,
        lastSeq: this.nextSeq - 1n,
        problem
      }
    }
  }
}

export interface SegmentFileScan {
  readonly scan: SegmentScan
  /** The chunk the scan ended in; its bytes stay valid until the caller's buffer is read into. */
  readonly lastChunk: FileChunk
  /** Bytes read, over every chunk. */
  readonly bytesRead: number
}

export interface ScanFileOptions {
  readonly onBatch: (batch: ScannedBatch, chunk: FileChunk) => void
  /** Where chunks are read (replaced with a larger one when too small). */
  readonly buffer: { buffer: Uint8Array }
  /** The first chunk, when the caller has read it already (read-ahead). */
  readonly firstChunk?: FileChunk | undefined
  /** Runs before a chunk is scanned (recovery starts reading the next segment there). */
  readonly beforeScan?: ((chunk: FileChunk) => Effect.Effect<void>) | undefined
  /** Runs once a chunk has been scanned, before the next chunk is read into `buffer`. */
  readonly afterScan?: ((chunk: FileChunk) => Effect.Effect<void>) | undefined
  /** Bytes checked between two yields to other fibers; no yield when undefined. */
  readonly stepBytes?: number | undefined
  readonly chunkBytes?: number | undefined
}

/** Reads and scans a segment file chunk by chunk (see the module comment). */
export const scanSegmentFile = (
  fs: FileSystem.FileSystem,
  path: string,
  expectedFirstSeq: bigint,
  options: ScanFileOptions
): Effect.Effect<SegmentFileScan, IoError> =>
  Effect.gen(function* () {
    const chunkBytes = options.chunkBytes ?? READ_CHUNK_BYTES
    const stepBytes = options.stepBytes ?? Number.POSITIVE_INFINITY
    let chunk: FileChunk = {
      bytes: new Uint8Array(0),
      offsetBytes: 0,
      fileSizeBytes: 0,
      reachesEndOfFile: false
    }
    const scanner = new SegmentScanner(expectedFirstSeq, (batch) => options.onBatch(batch, chunk))
    let bytesRead = 0
    let next = { offsetBytes: 0, lengthBytes: chunkBytes }
    for (let first = true; ; first = false) {
      chunk =
        first && options.firstChunk !== undefined
          ? options.firstChunk
          : yield* readFileChunk(fs, path, next.offsetBytes, next.lengthBytes, options.buffer)
      bytesRead += chunk.bytes.byteLength
      if (options.beforeScan !== undefined) yield* options.beforeScan(chunk)
      scanner.startChunk(chunk.bytes, chunk.offsetBytes, chunk.reachesEndOfFile)
      let result = scanner.advance(stepBytes)
      while (result === undefined) {
        yield* Effect.yieldNow
        result = scanner.advance(stepBytes)
      }
      if (options.afterScan !== undefined) yield* options.afterScan(chunk)
      if (result._tag === "Ended") return { scan: result.scan, lastChunk: chunk, bytesRead }
      next = { offsetBytes: result.nextOffsetBytes, lengthBytes: Math.max(chunkBytes, result.minLengthBytes) }
    }
  })

// internals

/**
 * The size the batch header at `offset` claims, once its magic and event count pass (checks 2 and
 * 3 of docs/FORMAT.md §2); `undefined` before that.
 */
const claimedBatchBytes = (bytes: Uint8Array, offset: number): number | undefined => {
  if (bytes.byteLength - offset < BATCH_HEADER_BYTES) return undefined
  if (u32At(bytes, offset) !== BATCH_MAGIC || u32At(bytes, offset + 8) < 1) return undefined
  return BATCH_HEADER_BYTES + u32At(bytes, offset + 12)
}

const u32At = (bytes: Uint8Array, offset: number): number =>
  ((bytes[offset] as number) |
    ((bytes[offset + 1] as number) << 8) |
    ((bytes[offset + 2] as number) << 16) |
    ((bytes[offset + 3] as number) << 24)) >>>
  0

/** The typed error for a problem that is not read as a torn tail. */
export const problemError = (
  file: string,
  problem: ScanProblem
): CorruptionError | UnsupportedVersionError =>
  problem._tag === "Unsupported"
    ? new UnsupportedVersionError({
        file,
        offsetBytes: problem.offsetBytes,
        version: problem.version,
        flags: problem.flags
      })
    : new CorruptionError({
        file,
        offsetBytes: problem.offsetBytes,
        reason: problem.reason,
        detail: problem.detail
      })
