/**
 * The 21-byte event record (docs/FORMAT.md §2 "Event record"): encode into and decode from a caller's buffer.
 *
 * Records are written straight into a batch buffer through one DataView, so the append path
 * allocates nothing per event. `weight` is stored as f32; decoding returns the stored value.
 */
import type { SignalEvent } from "../../SignalEvent.ts"
import { EVENT_RECORD_BYTES } from "./layout.ts"

export const writeEventRecord = (view: DataView, offset: number, event: SignalEvent): void => {
  view.setBigUint64(offset, event.entityId, true)
  view.setUint8(offset + 8, event.signalType)
  view.setFloat32(offset + 9, event.weight, true)
  view.setBigUint64(offset + 13, event.timestamp, true)
}

export const readEventRecord = (view: DataView, offset: number): SignalEvent => ({
  entityId: view.getBigUint64(offset, true),
  signalType: view.getUint8(offset + 8),
  weight: view.getFloat32(offset + 9, true),
  timestamp: view.getBigUint64(offset + 13, true)
})

export const encodeEventRecord = (event: SignalEvent): Uint8Array => {
  const bytes = new Uint8Array(EVENT_RECORD_BYTES)
  writeEventRecord(new DataView(bytes.buffer), 0, event)
  return bytes
}

export const decodeEventRecord = (bytes: Uint8Array): SignalEvent =>
  readEventRecord(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0)
