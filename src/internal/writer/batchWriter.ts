/**
 * Writes one batch (SPEC §3 "Append and group commit"): drop duplicates, assign sequence numbers,
 * encode, checksum, write, exactly one sync — and only then complete the appends.
 *
 * Events are encoded straight into one reused buffer; a duplicate's record is overwritten by
 * the next event. Dedup keys enter the window only after the sync succeeded, so a batch that
 * failed leaves no trace and its events are written when retried.
 */
import { Clock, Effect } from "effect"
import type { SignalEvent } from "../../SignalEvent.ts"
import type { IoError } from "../../WalError.ts"
import type { DedupWindowShape } from "../dedup/DedupWindow.ts"
import { dedupKeyInto, KEY_WORDS } from "../dedup/dedupKey.ts"
import { KeyTable } from "../dedup/KeyTable.ts"
import { batchSizeBytes, sealBatch } from "../format/batchCodec.ts"
import { writeEventRecord } from "../format/eventRecord.ts"
import { BATCH_HEADER_BYTES, EVENT_RECORD_BYTES } from "../format/layout.ts"
import type { SegmentAppender } from "../segment/SegmentAppender.ts"
import { type AppendMany, type AppendOne, reject, settle } from "./requests.ts"

/** How a slot of the batch ended up. */
const WRITTEN = 0
/** A duplicate of an event already durable: `0n` whatever happens to this batch. */
const DUPLICATE_OF_DURABLE = 1
/** A duplicate of an earlier event in this batch: `0n` only if this batch becomes durable. */
const DUPLICATE_IN_BATCH = 2

export interface DurableBatch {
  readonly firstSeq: bigint
  readonly batchTimestampNanos: bigint
  /** The batch's records; valid only until the next batch is written (the buffer is reused). */
  readonly records: Uint8Array
}

export interface BatchWriter {
  /** Adds `event`, event `index` of `owner` (any index for `AppendOne`), to the batch being formed. */
  readonly add: (owner: AppendOne | AppendMany, index: number, event: SignalEvent) => void
  readonly size: () => number
  /** Writes and syncs the batch formed so far and completes its appends. */
  readonly flush: Effect.Effect<void, IoError>
}

export interface BatchWriterOptions {
  readonly batchMaxEvents: number
  readonly appender: SegmentAppender
  readonly dedup: DedupWindowShape
  readonly nextSeq: () => bigint
  readonly onDurable: (batch: DurableBatch, eventsWritten: number, duplicates: number) => void
}

export const makeBatchWriter = (options: BatchWriterOptions): BatchWriter => {
  const { batchMaxEvents, appender, dedup } = options
  const buffer = new Uint8Array(batchSizeBytes(batchMaxEvents))
  const view = new DataView(buffer.buffer)
  const keys = new Uint32Array(batchMaxEvents * KEY_WORDS)
  const batchKeys = new KeyTable(batchMaxEvents * 2)
  const owners: Array<AppendOne | AppendMany | undefined> = new Array(batchMaxEvents).fill(undefined)
  const events: Array<SignalEvent | undefined> = new Array(batchMaxEvents).fill(undefined)
  const ownerIndexes = new Int32Array(batchMaxEvents)
  let slotCount = 0

  const add = (owner: AppendOne | AppendMany, index: number, event: SignalEvent): void => {
    owners[slotCount] = owner
    events[slotCount] = event
    ownerIndexes[slotCount] = index
    slotCount++
  }

  /** Calls `f` for each slot's owner, then lets go of the owners and events. */
  const forEachOwner = (
    count: number,
    f: (owner: AppendOne | AppendMany, index: number, slot: number) => void,
  ) => {
    for (let slot = 0; slot < count; slot++) {
      const owner = owners[slot]
      if (owner !== undefined) f(owner, ownerIndexes[slot] as number, slot)
    }
    owners.fill(undefined, 0, count)
    events.fill(undefined, 0, count)
  }

  const flush = Effect.suspend(() => {
    const count = slotCount
    slotCount = 0
    if (count === 0) return Effect.void
    return Effect.flatMap(Clock.currentTimeNanos, (nowNanos) => writeSlots(count, nowNanos))
  })

  const writeSlots = (count: number, nowNanos: bigint): Effect.Effect<void, IoError> => {
    dedup.advanceTo(nowNanos)
    batchKeys.clear()
    const outcomes = new Uint8Array(count)
    const seqOffsets = new Int32Array(count)
    let written = 0
    for (let slot = 0; slot < count; slot++) {
      const event = events[slot]
      if (event === undefined) continue
      const offset = BATCH_HEADER_BYTES + written * EVENT_RECORD_BYTES
      writeEventRecord(view, offset, event)
      dedupKeyInto(buffer.subarray(offset, offset + EVENT_RECORD_BYTES), keys, written)
      if (dedup.contains(keys, written)) {
        outcomes[slot] = DUPLICATE_OF_DURABLE
      } else if (!addKey(batchKeys, keys, written)) {
        outcomes[slot] = DUPLICATE_IN_BATCH
      } else {
        outcomes[slot] = WRITTEN
        seqOffsets[slot] = written
        written++
      }
    }
    if (written === 0) {
      settleAll(count, outcomes, seqOffsets, 0n)
      return Effect.void
    }
    const firstSeq = options.nextSeq()
    const lastSeq = firstSeq + BigInt(written - 1)
    const sizeBytes = sealBatch(buffer, firstSeq, nowNanos, written)
    return appender.appendBatch(buffer.subarray(0, sizeBytes), firstSeq, lastSeq).pipe(
      Effect.tapError((error) =>
        Effect.sync(() =>
          forEachOwner(count, (owner, index, slot) => {
            if (outcomes[slot] === DUPLICATE_OF_DURABLE) settle(owner, index, 0n)
            else reject(owner, error)
          }),
        ),
      ),
      Effect.tap(() =>
        Effect.sync(() => {
          dedup.remember(keys, written)
          options.onDurable(
            {
              firstSeq,
              batchTimestampNanos: nowNanos,
              records: buffer.subarray(BATCH_HEADER_BYTES, sizeBytes),
            },
            written,
            count - written,
          )
          settleAll(count, outcomes, seqOffsets, firstSeq)
        }),
      ),
    )
  }

  const settleAll = (count: number, outcomes: Uint8Array, seqOffsets: Int32Array, firstSeq: bigint): void => {
    forEachOwner(count, (owner, index, slot) => {
      settle(owner, index, outcomes[slot] === WRITTEN ? firstSeq + BigInt(seqOffsets[slot] as number) : 0n)
    })
  }

  return { add, size: () => slotCount, flush }
}

// internals

const addKey = (table: KeyTable, keys: Uint32Array, index: number): boolean => {
  const base = index * KEY_WORDS
  return table.add(
    keys[base] as number,
    keys[base + 1] as number,
    keys[base + 2] as number,
    keys[base + 3] as number,
  )
}
