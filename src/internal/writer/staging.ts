/**
 * Staging a batch: the CPU half of a write, done while earlier batches sync. Events enter the
 * batch buffer as records as they are added (an `append`'s encoded then, an `appendAll`'s copied
 * from the records encoded at its call); staging then decides for each whether it is written or
 * a duplicate, gives the written ones consecutive sequence numbers and seals the batch with its
 * BLAKE3 checksum (docs/FORMAT.md "Batches").
 *
 * Nothing here does I/O or waits: a staged batch is bytes ready to write plus, per slot, the
 * outcome its caller will get once the batch settles.
 */
import type { Tracer } from "effect"
import type { DedupWindowShape } from "../dedup/DedupWindow.ts"
import { dedupKeyInto, KEY_WORDS } from "../dedup/dedupKey.ts"
import type { PendingKeys } from "../dedup/PendingKeys.ts"
import { batchSizeBytes, sealBatch } from "../format/batchCodec.ts"
import { writeEventRecord } from "../format/eventRecord.ts"
import { BATCH_HEADER_BYTES, EVENT_RECORD_BYTES } from "../format/layout.ts"
import type { AppendMany, AppendOne } from "./requests.ts"

/** Written in this batch: gets its sequence number. */
export const WRITTEN = 0
/** A duplicate of an event already durable: `0n` whatever happens to this batch. */
export const DUPLICATE_OF_DURABLE = 1
/** A duplicate of an event in this batch or one in flight: `0n` only if this batch is durable. */
export const DUPLICATE_PENDING = 2

/** One of the batch buffers, with everything the batch needs until it settles. */
export interface Staging {
  readonly buffer: Uint8Array
  readonly view: DataView
  readonly keys: Uint32Array
  readonly owners: Array<AppendOne | AppendMany | undefined>
  readonly ownerIndexes: Int32Array
  readonly outcomes: Uint8Array
  readonly seqOffsets: Int32Array
  count: number
  written: number
  /** Numbers batches in the order they are staged, from 1: the tag of their pending keys. */
  batchNumber: number
  firstSeq: bigint
  timestampNanos: bigint
  sizeBytes: number
  /** The distinct spans of the callers with an event in the batch: its span links to each. */
  readonly callerSpans: Array<Tracer.AnySpan>
}

export const makeStaging = (batchMaxEvents: number): Staging => {
  const buffer = new Uint8Array(batchSizeBytes(batchMaxEvents))
  return {
    buffer,
    view: new DataView(buffer.buffer),
    keys: new Uint32Array(batchMaxEvents * KEY_WORDS),
    owners: new Array(batchMaxEvents).fill(undefined),
    ownerIndexes: new Int32Array(batchMaxEvents),
    outcomes: new Uint8Array(batchMaxEvents),
    seqOffsets: new Int32Array(batchMaxEvents),
    count: 0,
    written: 0,
    batchNumber: 0,
    firstSeq: 0n,
    timestampNanos: 0n,
    sizeBytes: 0,
    callerSpans: []
  }
}

/** Adds the event of an `append`: encoded into the batch buffer now, in the next slot. */
export const addOne = (staging: Staging, owner: AppendOne): void => {
  const slot = staging.count++
  staging.owners[slot] = owner
  staging.ownerIndexes[slot] = 0
  writeEventRecord(staging.view, BATCH_HEADER_BYTES + slot * EVENT_RECORD_BYTES, owner.event)
  addCallerSpan(staging, owner.callerSpan)
}

/**
 * Adds events `from .. from + count - 1` of an `appendAll` chunk: their records, encoded at the
 * call, are copied into the next slots in one piece. The caller checks that they fit.
 */
export const addRange = (staging: Staging, owner: AppendMany, from: number, count: number): void => {
  const first = staging.count
  staging.buffer.set(
    owner.records.subarray(from * EVENT_RECORD_BYTES, (from + count) * EVENT_RECORD_BYTES),
    BATCH_HEADER_BYTES + first * EVENT_RECORD_BYTES
  )
  for (let i = 0; i < count; i++) {
    staging.owners[first + i] = owner
    staging.ownerIndexes[first + i] = from + i
  }
  staging.count = first + count
  addCallerSpan(staging, owner.callerSpan)
}

const addCallerSpan = (staging: Staging, span: Tracer.AnySpan | undefined): void => {
  // The events of one appendAll sit together: comparing with the last span keeps this cheap.
  if (span !== undefined && staging.callerSpans.at(-1) !== span && !staging.callerSpans.includes(span)) {
    staging.callerSpans.push(span)
  }
}

export interface StageContext {
  readonly dedup: DedupWindowShape
  /** Keys of the batches in flight and this one: a repeat of one is a pending duplicate. */
  readonly pending: PendingKeys
  /** The batch number of the oldest batch still in flight (this one's if none is). */
  readonly liveFromBatch: number
  /** Reserves `count` sequence numbers and returns the first. */
  readonly reserveSeqs: (count: number) => bigint
}

/** Classifies, numbers, encodes and seals the batch in `staging`, stamped `nowNanos`. */
export const stageBatch = (
  staging: Staging,
  batchNumber: number,
  nowNanos: bigint,
  context: StageContext
) => {
  const { buffer, keys } = staging
  const count = staging.count
  staging.batchNumber = batchNumber
  staging.timestampNanos = nowNanos
  // A window of zero is deduplication off: no keys to hash, every event is written.
  const deduplicating = context.dedup.windowNanos > 0n
  // Hash everything first, then classify: the slots of all the batch's keys are fetched from
  // the (large) dedup tables at once, overlapping their cache misses.
  if (deduplicating) {
    for (let slot = 0; slot < count; slot++) {
      dedupKeyInto(buffer, BATCH_HEADER_BYTES + slot * EVENT_RECORD_BYTES, keys, slot)
    }
    context.dedup.prefetch(keys, count)
  }
  const written = deduplicating ? classify(staging, batchNumber, context) : writeAll(staging)
  staging.written = written
  staging.firstSeq = written > 0 ? context.reserveSeqs(written) : 0n
  staging.sizeBytes = written > 0 ? sealBatch(buffer, staging.firstSeq, nowNanos, written) : 0
}

/** Every event written, in order: deduplication is off. */
const writeAll = (staging: Staging): number => {
  staging.outcomes.fill(WRITTEN, 0, staging.count)
  for (let slot = 0; slot < staging.count; slot++) staging.seqOffsets[slot] = slot
  return staging.count
}

/** Decides each slot's outcome and packs the written records (and keys) to the front. */
const classify = (staging: Staging, batchNumber: number, context: StageContext): number => {
  const { buffer, keys, outcomes, seqOffsets } = staging
  // Locals, not property loads per event: this loop runs for every appended event.
  const { dedup, pending, liveFromBatch } = context
  const count = staging.count
  let written = 0
  for (let slot = 0; slot < count; slot++) {
    if (dedup.contains(keys, slot)) {
      outcomes[slot] = DUPLICATE_OF_DURABLE
    } else if (!pending.claim(keys, slot, batchNumber, liveFromBatch)) {
      outcomes[slot] = DUPLICATE_PENDING
    } else {
      outcomes[slot] = WRITTEN
      seqOffsets[slot] = written
      if (written !== slot) {
        // A duplicate before it left a gap: close it, record and key.
        const from = BATCH_HEADER_BYTES + slot * EVENT_RECORD_BYTES
        buffer.copyWithin(BATCH_HEADER_BYTES + written * EVENT_RECORD_BYTES, from, from + EVENT_RECORD_BYTES)
        keys.copyWithin(written * KEY_WORDS, slot * KEY_WORDS, (slot + 1) * KEY_WORDS)
      }
      written++
    }
  }
  return written
}

/** Calls `f` for each slot's owner, then empties the staging for reuse. */
export const forEachOwner = (
  staging: Staging,
  f: (owner: AppendOne | AppendMany, index: number, slot: number) => void
): void => {
  const count = staging.count
  for (let slot = 0; slot < count; slot++) {
    const owner = staging.owners[slot]
    if (owner !== undefined) f(owner, staging.ownerIndexes[slot] as number, slot)
  }
  staging.owners.fill(undefined, 0, count)
  staging.callerSpans.length = 0
  staging.count = 0
}
