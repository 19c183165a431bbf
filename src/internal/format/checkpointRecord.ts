/**
 * The 56-byte `checkpoint.meta` record (docs/FORMAT.md §2–§4): encode, and decode with every field checked.
 */
import { blake3, checksumEquals } from "./checksum.ts"
import {
  CHECKPOINT_CHECKSUMMED_BYTES,
  CHECKPOINT_FILE_BYTES,
  CHECKPOINT_MAGIC,
  CHECKPOINT_VERSION
} from "./layout.ts"

export interface CheckpointRecord {
  readonly sequence: bigint
  readonly timestampNanos: bigint
}

export const encodeCheckpoint = (record: CheckpointRecord): Uint8Array => {
  const bytes = new Uint8Array(CHECKPOINT_FILE_BYTES)
  const view = new DataView(bytes.buffer)
  view.setUint32(0, CHECKPOINT_MAGIC, true)
  view.setUint16(4, CHECKPOINT_VERSION, true)
  view.setUint16(6, 0, true)
  view.setBigUint64(8, record.sequence, true)
  view.setBigUint64(16, record.timestampNanos, true)
  bytes.set(blake3(bytes.subarray(0, CHECKPOINT_CHECKSUMMED_BYTES)), CHECKPOINT_CHECKSUMMED_BYTES)
  return bytes
}

export type CheckpointDecoding =
  | { readonly _tag: "Valid"; readonly record: CheckpointRecord }
  | { readonly _tag: "Invalid"; readonly offsetBytes: number; readonly detail: string }

export const decodeCheckpoint = (bytes: Uint8Array): CheckpointDecoding => {
  if (bytes.byteLength !== CHECKPOINT_FILE_BYTES) {
    return {
      _tag: "Invalid",
      offsetBytes: 0,
      detail: `${bytes.byteLength} bytes, expected ${CHECKPOINT_FILE_BYTES}`
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const magic = view.getUint32(0, true)
  if (magic !== CHECKPOINT_MAGIC) {
    return { _tag: "Invalid", offsetBytes: 0, detail: `magic 0x${magic.toString(16).padStart(8, "0")}` }
  }
  const expected = blake3(bytes.subarray(0, CHECKPOINT_CHECKSUMMED_BYTES))
  if (!checksumEquals(expected, bytes, CHECKPOINT_CHECKSUMMED_BYTES)) {
    return { _tag: "Invalid", offsetBytes: CHECKPOINT_CHECKSUMMED_BYTES, detail: "checksum mismatch" }
  }
  const version = view.getUint16(4, true)
  const reserved = view.getUint16(6, true)
  if (version !== CHECKPOINT_VERSION || reserved !== 0) {
    return { _tag: "Invalid", offsetBytes: 4, detail: `version ${version}, reserved ${reserved}` }
  }
  return {
    _tag: "Valid",
    record: { sequence: view.getBigUint64(8, true), timestampNanos: view.getBigUint64(16, true) }
  }
}
