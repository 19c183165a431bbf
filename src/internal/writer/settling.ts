/**
 * Settling a batch once its flight is over: every caller with an event in it gets its answer.
 *
 * A durable batch answers each written event with its sequence number and each duplicate with
 * `0n`, and only then enters its keys into the dedup window. A failed batch fails its callers,
 * except those whose event was a duplicate of one already durable: that answer (`0n`) holds
 * whatever happened to this batch.
 */
import type { Effect } from "effect"
import type { IoError } from "../../WalError.ts"
import type { DedupWindowShape } from "../dedup/DedupWindow.ts"
import { BATCH_HEADER_BYTES } from "../format/layout.ts"
import { type AppendMany, type AppendOne, reject, settle } from "./requests.ts"
import { DUPLICATE_OF_DURABLE, forEachOwner, type Staging, WRITTEN } from "./staging.ts"

export interface DurableBatch {
  readonly firstSeq: bigint
  readonly batchTimestampNanos: bigint
  /** The batch's records; valid only until the buffer is reused for a later batch. */
  readonly records: Uint8Array
}

export interface SettleContext {
  readonly dedup: DedupWindowShape
  /** 0n..(batchMaxEvents - 1)n, made once: a sequence number then costs one BigInt, not two. */
  readonly offsetBigInts: ReadonlyArray<bigint>
  /**
   * Called for every durable batch, also one that wrote nothing (all duplicates); may answer an
   * effect to run once the batch's callers are settled (publishing it to live tails).
   */
  readonly onDurable: (
    batch: DurableBatch,
    eventsWritten: number,
    duplicates: number,
    syncMillis: number
  ) => Effect.Effect<void> | undefined
  /** Called with each append or appendAll chunk a batch completes, and the time it completed. */
  readonly onCompleted: (request: AppendOne | AppendMany, nowMillis: number) => void
}

/** Settles a durable batch's callers; answers what `onDurable` asked to run afterwards. */
export const settleDurable = (
  staging: Staging,
  syncMillis: number,
  context: SettleContext
): Effect.Effect<void> | undefined => {
  context.dedup.remember(staging.keys, staging.written)
  const after = context.onDurable(
    {
      firstSeq: staging.firstSeq,
      batchTimestampNanos: staging.timestampNanos,
      records: staging.buffer.subarray(BATCH_HEADER_BYTES, staging.sizeBytes)
    },
    staging.written,
    staging.count - staging.written,
    syncMillis
  )
  const nowMillis = performance.now()
  const completed = (request: AppendOne | AppendMany) => context.onCompleted(request, nowMillis)
  forEachOwner(staging, (owner, index, slot) => {
    const seq =
      staging.outcomes[slot] === WRITTEN
        ? staging.firstSeq + (context.offsetBigInts[staging.seqOffsets[slot] as number] as bigint)
        : 0n
    settle(owner, index, seq, completed)
  })
  return after
}

export const settleFailed = (staging: Staging, error: IoError, context: SettleContext): void => {
  const nowMillis = performance.now()
  const completed = (request: AppendOne | AppendMany) => context.onCompleted(request, nowMillis)
  forEachOwner(staging, (owner, index, slot) => {
    if (staging.outcomes[slot] === DUPLICATE_OF_DURABLE) settle(owner, index, 0n, completed)
    else reject(owner, error)
  })
}
