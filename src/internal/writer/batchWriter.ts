/**
 * Writes batches (docs/FORMAT.md "Group commit"): the writer fiber adds events, `flush` stages
 * the batch formed so far (staging.ts) and puts it on its way (pipeline.ts); appends complete
 * only once their batch and every batch before it are synced (settling.ts).
 *
 * Dedup keys enter the window only once their batch is acknowledged; an event repeating one of a
 * batch still in flight is answered `0n` only once that batch is.
 */
import { Clock, Effect } from "effect"
import type { ClosedError, IoError } from "../../WalError.ts"
import type { DedupWindowShape } from "../dedup/DedupWindow.ts"
import { PendingKeys } from "../dedup/PendingKeys.ts"
import { MAX_UNSYNCED_BATCHES } from "../segment/logRule.ts"
import type { SegmentAppender } from "../segment/SegmentAppender.ts"
import { makePipeline } from "./pipeline.ts"
import { type AppendMany, type AppendOne, reject } from "./requests.ts"
import type { SettleContext } from "./settling.ts"
import { addOne, addRange, forEachOwner, makeStaging, type Staging, stageBatch } from "./staging.ts"

export interface BatchWriter {
  /** Adds the event of an `append` to the batch being formed. */
  readonly addOne: (owner: AppendOne) => void
  /**
   * Adds events `from ..` of an `appendAll` chunk, as many as the batch has room for (up to
   * `count`), and answers how many it took.
   */
  readonly addRange: (owner: AppendMany, from: number, count: number) => number
  readonly size: () => number
  /** Stages the batch formed so far and puts it on its way, once there is room in the pipeline. */
  readonly flush: Effect.Effect<void>
  /** Waits until no batch is in flight. */
  readonly drain: Effect.Effect<void>
  /** Interrupts the I/O of the batches in flight: for the writer's scope to run as it closes. */
  readonly interruptInFlight: Effect.Effect<void>
}

/** What the writer needs of the WAL's lifecycle (WalLifecycle provides it). */
export interface WriterLifecycle {
  readonly failure: IoError | undefined
  closedError(): ClosedError
  sequenceExhausted(): ClosedError
  seqsRemaining(): bigint
  reserveSeqs(count: number): bigint
}

export interface BatchWriterOptions {
  readonly batchMaxEvents: number
  readonly appender: Pick<SegmentAppender, "writeBatch">
  readonly dedup: DedupWindowShape
  readonly lifecycle: WriterLifecycle
  readonly onDurable: SettleContext["onDurable"]
  readonly onCompleted: SettleContext["onCompleted"]
  /** Closes the WAL for writing; runs as soon as a write or sync fails. */
  readonly fail: (error: IoError) => Effect.Effect<void>
  /** Whether batches run in spans (see `PipelineOptions.traceBatches`). */
  readonly traceBatches: boolean
  /** See `PipelineOptions.coalesceRoomBytes`. */
  readonly coalesceRoomBytes?: (() => number) | undefined
}

export const makeBatchWriter = (options: BatchWriterOptions): BatchWriter => {
  const { batchMaxEvents, dedup, lifecycle } = options
  const stagings = Array.from({ length: MAX_UNSYNCED_BATCHES + 1 }, () => makeStaging(batchMaxEvents))
  let current = stagings[0] as Staging
  /** Keys of the batch being staged and those in flight: repeats of them are duplicates too. */
  const pending = new PendingKeys((MAX_UNSYNCED_BATCHES + 1) * batchMaxEvents)
  let nextBatchNumber = 1
  const pipeline = makePipeline({
    appender: options.appender,
    failure: () => lifecycle.failure,
    fail: options.fail,
    traceBatches: options.traceBatches,
    coalesceRoomBytes: options.coalesceRoomBytes,
    settle: {
      dedup,
      offsetBigInts: Array.from({ length: batchMaxEvents }, (_, i) => BigInt(i)),
      onDurable: options.onDurable,
      onCompleted: options.onCompleted
    }
  })
  const reserveSeqs = (count: number) => lifecycle.reserveSeqs(count)

  /** Drops the stale keys of settled batches: only the batches still in flight are re-entered. */
  const rebuildPending = (): void => {
    pending.clear()
    for (const { keys, written, batchNumber } of pipeline.inFlight()) {
      for (let i = 0; i < written; i++) pending.claim(keys, i, batchNumber, batchNumber)
    }
  }

  /** Stages `staging` and launches it, or refuses it whole when the WAL cannot take it. */
  const stageAndLaunch = (staging: Staging, nowNanos: bigint): Effect.Effect<void> => {
    if (lifecycle.failure !== undefined) {
      forEachOwner(staging, (owner) => reject(owner, lifecycle.closedError()))
      return Effect.void
    }
    // Checked before any dedup key is claimed, on the count before dedup: a batch that might
    // not fit is refused whole, and leaves no trace that could make a retry a "duplicate".
    if (BigInt(staging.count) > lifecycle.seqsRemaining()) {
      forEachOwner(staging, (owner) => reject(owner, lifecycle.sequenceExhausted()))
      return Effect.void
    }
    dedup.advanceTo(nowNanos)
    if (pending.isFull()) rebuildPending()
    const batchNumber = nextBatchNumber++
    const liveFromBatch = pipeline.oldest()?.batchNumber ?? batchNumber
    stageBatch(staging, batchNumber, nowNanos, { dedup, pending, liveFromBatch, reserveSeqs })
    return pipeline.launch(staging)
  }

  const flush: Effect.Effect<void> = Effect.suspend(() => {
    if (current.count === 0) return Effect.void
    return Effect.andThen(
      pipeline.awaitRoom,
      Effect.flatMap(Clock.currentTimeNanos, (nowNanos) => {
        const staging = current
        // A free buffer always exists: MAX_UNSYNCED_BATCHES + 1 of them, and room for one more flight.
        current = stagings.find((s) => s !== staging && !pipeline.holds(s)) ?? staging
        return stageAndLaunch(staging, nowNanos)
      })
    )
  })

  return {
    addOne: (owner) => addOne(current, owner),
    addRange: (owner, from, count) => {
      const taken = Math.min(count, batchMaxEvents - current.count)
      addRange(current, owner, from, taken)
      return taken
    },
    size: () => current.count,
    flush,
    drain: pipeline.drain,
    interruptInFlight: pipeline.interruptInFlight
  }
}
