/**
 * Walks the batches of one segment's bytes and reports where its valid prefix ends, and why.
 *
 * Pure: recovery, `verify` and the stream reader all use it. Sequence continuity is checked here
 * too — each batch's `first_seq` must follow the previous one, and the first batch must match the
 * number the file name promises — because a checksum alone cannot tell a batch from an old copy.
 */
import { CorruptionError, type CorruptionReason, UnsupportedVersionError } from "../../WalError.ts"
import { type BatchHeader, inspectBatch } from "../format/batchCodec.ts"
import { BATCH_HEADER_BYTES, U64_MAX } from "../format/layout.ts"

export interface ScannedBatch {
  readonly offsetBytes: number
  readonly header: BatchHeader
  /** The batch's payload: `eventCount` records of 21 bytes (a view into the segment's bytes). */
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

/**
 * Scans `bytes` from offset 0, expecting its first batch to start at `expectedFirstSeq`, and calls
 * `onBatch` for every valid batch in order.
 */
export const scanSegment = (
  bytes: Uint8Array,
  expectedFirstSeq: bigint,
  onBatch: (batch: ScannedBatch) => void
): SegmentScan => {
  const scanner = new SegmentScanner(bytes, expectedFirstSeq, onBatch)
  for (;;) {
    const result = scanner.advance(Number.POSITIVE_INFINITY)
    if (result !== undefined) return result
  }
}

/**
 * `scanSegment` in steps, for a caller that lets other work run between them (recovery reads the
 * next segment meanwhile). Each step checks whole batches until it has covered `budgetBytes`.
 */
export class SegmentScanner {
  private readonly bytes: Uint8Array
  private readonly onBatch: (batch: ScannedBatch) => void
  private offset = 0
  private batchCount = 0
  private nextSeq: bigint
  private result: SegmentScan | undefined

  constructor(bytes: Uint8Array, expectedFirstSeq: bigint, onBatch: (batch: ScannedBatch) => void) {
    this.bytes = bytes
    this.onBatch = onBatch
    this.nextSeq = expectedFirstSeq
  }

  /** Scans on for at least `budgetBytes`; the scan's result once it has ended, else `undefined`. */
  advance(budgetBytes: number): SegmentScan | undefined {
    if (this.result === undefined) this.result = this.scan(this.offset + budgetBytes)
    return this.result
  }

  private scan(untilOffset: number): SegmentScan | undefined {
    const bytes = this.bytes
    let offset = this.offset
    let batchCount = this.batchCount
    let nextSeq = this.nextSeq
    while (offset < bytes.byteLength) {
      if (offset >= untilOffset) {
        this.offset = offset
        this.batchCount = batchCount
        this.nextSeq = nextSeq
        return undefined
      }
      const inspection = inspectBatch(bytes, offset)
      if (inspection._tag === "Invalid")
        return stop(offset, batchCount, nextSeq, inspection.reason, inspection.detail)
      const { header, sizeBytes } = inspection
      if (inspection._tag === "Unsupported") {
        const problem: ScanProblem = {
          _tag: "Unsupported",
          offsetBytes: offset,
          version: header.version,
          flags: header.flags
        }
        return { validBytes: offset, batchCount, lastSeq: nextSeq - 1n, problem }
      }
      if (header.firstSeq !== nextSeq) {
        const reason = offset === 0 ? "SegmentNameMismatch" : "SequenceGap"
        return stop(offset, batchCount, nextSeq, reason, `first_seq ${header.firstSeq}, expected ${nextSeq}`)
      }
      const lastSeq = header.firstSeq + BigInt(header.eventCount) - 1n
      if (lastSeq > U64_MAX) {
        return stop(offset, batchCount, nextSeq, "SequenceGap", `last sequence number ${lastSeq} exceeds u64`)
      }
      this.onBatch({
        offsetBytes: offset,
        header,
        payload: bytes.subarray(offset + BATCH_HEADER_BYTES, offset + sizeBytes)
      })
      batchCount++
      nextSeq = lastSeq + 1n
      offset += sizeBytes
    }
    return { validBytes: offset, batchCount, lastSeq: nextSeq - 1n, problem: undefined }
  }
}

// internals

const stop = (
  offsetBytes: number,
  batchCount: number,
  nextSeq: bigint,
  reason: CorruptionReason,
  detail: string
): SegmentScan => ({
  validBytes: offsetBytes,
  batchCount,
  lastSeq: nextSeq - 1n,
  problem: { _tag: "Invalid", offsetBytes, reason, detail }
})

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
