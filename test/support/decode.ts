/**
 * A plain decoder of one batch, for tests: header fields and events, no checks.
 */

import type { SignalEvent } from "../../src/index.ts"
import { readBatchHeader } from "../../src/internal/format/batchCodec.ts"
import { decodeEventRecord } from "../../src/internal/format/eventRecord.ts"

export const decodeBatchForTest = (bytes: Uint8Array) => {
  const header = readBatchHeader(new DataView(bytes.buffer, bytes.byteOffset, 64))
  const events: Array<SignalEvent> = []
  for (let i = 0; i < header.eventCount; i++) {
    events.push(decodeEventRecord(bytes.subarray(64 + i * 21, 64 + (i + 1) * 21)))
  }
  return { ...header, events }
}
