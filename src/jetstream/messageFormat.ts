/**
 * The JetStream message that carries WAL events (docs/JETSTREAM.md "Message format").
 *
 * The body is one batch in the WAL's own format v1 (docs/FORMAT.md "Batch"): the 64-byte header
 * with `first_seq`, `event_count` and the BLAKE3 checksum of header and payload, then the 21-byte
 * records. So a reader on another machine verifies a message with the same code recovery uses,
 * and the WAL's sequence numbers travel inside the checksummed bytes. Headers add what the bytes
 * cannot say: which WAL shipped them (`Tidal-Wal-Id`), and the id JetStream deduplicates by.
 */

import { batchSizeBytes, inspectBatch, writeBatch } from "../internal/format/batchCodec.ts"
import { readEventRecord } from "../internal/format/eventRecord.ts"
import { BATCH_HEADER_BYTES, EVENT_RECORD_BYTES } from "../internal/format/layout.ts"
import type { ReplayedEvent, SignalEvent } from "../SignalEvent.ts"

/** The 32-hex-digit id of the WAL directory that shipped the message. */
export const WAL_ID_HEADER = "Tidal-Wal-Id"
/** The first WAL sequence number in the message, in decimal (also inside the body). */
export const FIRST_SEQ_HEADER = "Tidal-First-Seq"
/** The number of events in the message, in decimal (also inside the body). */
export const EVENT_COUNT_HEADER = "Tidal-Event-Count"

/** Bytes every message body spends besides its records: the batch header. */
export const MESSAGE_OVERHEAD_BYTES = BATCH_HEADER_BYTES

/**
 * The `Nats-Msg-Id` of the message whose first event is `firstSeq`: a retry of the same events
 * after a crash or a lost acknowledgement carries the same id, so the server drops the copy.
 */
export const messageIdFor = (walId: string, firstSeq: bigint): string => `${walId}:${firstSeq}`

/** The most events a body of at most `maxMessageBytes` holds. */
export const eventsPerMessage = (maxMessageBytes: number): number =>
  Math.floor((maxMessageBytes - MESSAGE_OVERHEAD_BYTES) / EVENT_RECORD_BYTES)

/**
 * The body for `events`, which must be consecutive: `events[i].seq === firstSeq + i`. The batch
 * timestamp is the time the shipper sealed the message.
 */
export const encodeMessageBody = (
  events: ReadonlyArray<ReplayedEvent>,
  sealedAtNanos: bigint
): Uint8Array => {
  const first = events[0]
  if (first === undefined) throw new Error("encodeMessageBody: a message holds at least one event")
  const body = new Uint8Array(batchSizeBytes(events.length))
  writeBatch(body, first.seq, sealedAtNanos, events.length, (i) => events[i] as SignalEvent)
  return body
}

/** A verified message body: where its records are and which sequence numbers they carry. */
export interface MessageBody {
  readonly firstSeq: bigint
  readonly eventCount: number
  /** The sequence number of the last event: `firstSeq + eventCount - 1`. */
  readonly lastSeq: bigint
  readonly records: Uint8Array
}

/**
 * Checks a body as recovery checks a batch — bounds, BLAKE3 checksum, version, payload length —
 * and that it is exactly one batch. Returns the body, or what is wrong with it.
 */
export const decodeMessageBody = (bytes: Uint8Array): MessageBody | string => {
  const inspection = inspectBatch(bytes, 0)
  if (inspection._tag === "Invalid") return `${inspection.reason}: ${inspection.detail}`
  if (inspection._tag === "Unsupported") {
    return `batch version ${inspection.header.version}, flags ${inspection.header.flags}: this build reads version 1, flags 0`
  }
  if (inspection.sizeBytes !== bytes.byteLength) {
    return `${bytes.byteLength - inspection.sizeBytes} bytes after the batch`
  }
  const { firstSeq, eventCount } = inspection.header
  return {
    firstSeq,
    eventCount,
    lastSeq: firstSeq + BigInt(eventCount) - 1n,
    records: bytes.subarray(BATCH_HEADER_BYTES, inspection.sizeBytes)
  }
}

/** The events of `body` from `fromSeq` on (all of them when `fromSeq <= body.firstSeq`). */
export const eventsOf = (body: MessageBody, fromSeq: bigint): Array<ReplayedEvent> => {
  const view = new DataView(body.records.buffer, body.records.byteOffset, body.records.byteLength)
  const start = fromSeq > body.firstSeq ? Number(fromSeq - body.firstSeq) : 0
  const events: Array<ReplayedEvent> = []
  for (let i = start; i < body.eventCount; i++) {
    events.push({ seq: body.firstSeq + BigInt(i), ...readEventRecord(view, i * EVENT_RECORD_BYTES) })
  }
  return events
}
