/**
 * Batches (docs/FORMAT.md §2 "Batch"): a 64-byte header, then `event_count` records, checksummed by BLAKE3.
 *
 * A batch is the unit of durability: written whole, then synced, possibly together with the
 * batches behind it (writer/pipeline.ts "coalesceRoomBytes"). `writeBatch` encodes into a buffer the
 * writer reuses; `inspectBatch` distrusts the disk — every length is checked against the bytes
 * left before it is used — and returns the first failed check as data, because whether that is a
 * torn tail or corruption is recovery's decision (recovery/recoveryPlan.ts), not the decoder's.
 */

import type { SignalEvent } from "../../SignalEvent.ts"
import type { CorruptionReason } from "../../WalError.ts"
import { blake3Into, checksumEquals } from "./checksum.ts"
import { writeEventRecord } from "./eventRecord.ts"
import {
  BATCH_CHECKSUMMED_HEADER_BYTES,
  BATCH_FLAGS,
  BATCH_HEADER_BYTES,
  BATCH_MAGIC,
  BATCH_VERSION,
  CHECKSUM_BYTES,
  EVENT_RECORD_BYTES
} from "./layout.ts"

export interface BatchHeader {
  readonly version: number
  readonly flags: number
  readonly eventCount: number
  readonly payloadLengthBytes: number
  readonly firstSeq: bigint
  readonly batchTimestampNanos: bigint
}

/** Scratch space for the checksum `inspectBatch` computes: recovery checks many batches in a row. */
const computedChecksum = new Uint8Array(CHECKSUM_BYTES)

export const batchSizeBytes = (eventCount: number): number =>
  BATCH_HEADER_BYTES + eventCount * EVENT_RECORD_BYTES

/**
 * Encodes `eventCount` events, taken by `eventAt`, as one batch at the start of `target`.
 * Returns the number of bytes written. `target` must hold `batchSizeBytes(eventCount)`.
 */
export const writeBatch = (
  target: Uint8Array,
  firstSeq: bigint,
  batchTimestampNanos: bigint,
  eventCount: number,
  eventAt: (index: number) => SignalEvent
): number => {
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength)
  for (let i = 0; i < eventCount; i++) {
    writeEventRecord(view, BATCH_HEADER_BYTES + i * EVENT_RECORD_BYTES, eventAt(i))
  }
  return sealBatch(target, firstSeq, batchTimestampNanos, eventCount)
}

/** Encodes a batch into a new buffer: for tests, tools and the vectors. */
export const encodeBatch = (
  firstSeq: bigint,
  batchTimestampNanos: bigint,
  events: ReadonlyArray<SignalEvent>
): Uint8Array => {
  const target = new Uint8Array(batchSizeBytes(events.length))
  writeBatch(target, firstSeq, batchTimestampNanos, events.length, (i) => events[i] as SignalEvent)
  return target
}

/** What `inspectBatch` found at an offset. */
export type BatchInspection =
  | { readonly _tag: "Valid"; readonly header: BatchHeader; readonly sizeBytes: number }
  | { readonly _tag: "Unsupported"; readonly header: BatchHeader; readonly sizeBytes: number }
  | { readonly _tag: "Invalid"; readonly reason: CorruptionReason; readonly detail: string }

/**
 * Checks the batch starting at `offset` of `bytes` (the whole segment, or its valid prefix).
 *
 * Order: bounds first (magic, non-empty, fits in the file), then the BLAKE3 checksum, then the
 * version and flags — only a batch that is intact can be called a newer writer's data rather
 * than garbage — and last `payload_len == event_count × 21`, which only v1 defines.
 */
export const inspectBatch = (bytes: Uint8Array, offset: number): BatchInspection => {
  const remaining = bytes.byteLength - offset
  if (remaining < BATCH_HEADER_BYTES) {
    return invalid(
      "BatchPastEndOfFile",
      `${remaining} bytes left, a batch header needs ${BATCH_HEADER_BYTES}`
    )
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, BATCH_HEADER_BYTES)
  const magic = view.getUint32(0, true)
  if (magic !== BATCH_MAGIC) return invalid("BadMagic", `magic 0x${magic.toString(16).padStart(8, "0")}`)
  const header = readBatchHeader(view)
  if (header.eventCount < 1) return invalid("EmptyBatch", "event_count 0")
  const sizeBytes = BATCH_HEADER_BYTES + header.payloadLengthBytes
  if (sizeBytes > remaining) {
    return invalid("BatchPastEndOfFile", `batch of ${sizeBytes} bytes, ${remaining} left in the file`)
  }
  const checksumInput = bytes.subarray(offset, offset + BATCH_CHECKSUMMED_HEADER_BYTES)
  const payload = bytes.subarray(offset + BATCH_HEADER_BYTES, offset + sizeBytes)
  blake3Into(checksumInput, payload, computedChecksum, 0)
  if (!checksumEquals(computedChecksum, bytes, offset + BATCH_CHECKSUMMED_HEADER_BYTES)) {
    return invalid("ChecksumMismatch", "BLAKE3 of header and payload differs from the stored checksum")
  }
  if (header.version !== BATCH_VERSION || header.flags !== BATCH_FLAGS) {
    return { _tag: "Unsupported", header, sizeBytes }
  }
  if (header.payloadLengthBytes !== header.eventCount * EVENT_RECORD_BYTES) {
    return invalid(
      "BadPayloadLength",
      `payload_len ${header.payloadLengthBytes} != event_count ${header.eventCount} × ${EVENT_RECORD_BYTES}`
    )
  }
  return { _tag: "Valid", header, sizeBytes }
}

export const readBatchHeader = (view: DataView): BatchHeader => ({
  version: view.getUint16(4, true),
  flags: view.getUint16(6, true),
  eventCount: view.getUint32(8, true),
  payloadLengthBytes: view.getUint32(12, true),
  firstSeq: view.getBigUint64(16, true),
  batchTimestampNanos: view.getBigUint64(24, true)
})

/**
 * Writes the header and checksum of a batch whose `eventCount` records are already in place at
 * `target[64..]`. Returns the batch's size in bytes.
 */
export const sealBatch = (
  target: Uint8Array,
  firstSeq: bigint,
  batchTimestampNanos: bigint,
  eventCount: number
): number => {
  const view = new DataView(target.buffer, target.byteOffset, BATCH_HEADER_BYTES)
  const payloadLengthBytes = eventCount * EVENT_RECORD_BYTES
  view.setUint32(0, BATCH_MAGIC, true)
  view.setUint16(4, BATCH_VERSION, true)
  view.setUint16(6, BATCH_FLAGS, true)
  view.setUint32(8, eventCount, true)
  view.setUint32(12, payloadLengthBytes, true)
  view.setBigUint64(16, firstSeq, true)
  view.setBigUint64(24, batchTimestampNanos, true)
  const sizeBytes = BATCH_HEADER_BYTES + payloadLengthBytes
  blake3Into(
    target.subarray(0, BATCH_CHECKSUMMED_HEADER_BYTES),
    target.subarray(BATCH_HEADER_BYTES, sizeBytes),
    target,
    BATCH_CHECKSUMMED_HEADER_BYTES
  )
  return sizeBytes
}

// internals

const invalid = (reason: CorruptionReason, detail: string): BatchInspection => ({
  _tag: "Invalid",
  reason,
  detail
})
