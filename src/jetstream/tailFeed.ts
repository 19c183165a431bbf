/**
 * Feeds the WAL's durable events into the shipper's queue, and watches that they keep coming.
 *
 * `wal.tail` delivers every durable event, reading from disk whatever its live buffer dropped.
 * The watchdog is a second line of defence: if the tail goes quiet while the WAL holds durable
 * events the shipper has not received and the queue is empty — the tail has stalled — it fails
 * the session with `TailStalled`, a transient failure, so the shipper starts over from where the
 * copy ends with a fresh tail that reads them from disk. A false alarm (a sync slower than the
 * stall time) costs one such restart, never an event.
 */
import { type Cause, Clock, Effect, Queue, type Scope, Stream } from "effect"
import type { ReplayedEvent } from "../SignalEvent.ts"
import type { WalHandleShape } from "../WalHandle.ts"
import type { Target } from "./connection.ts"
import { JetStreamError } from "./JetStreamError.ts"
import type { LagTracker } from "./lagTracker.ts"

export type EventQueue = Queue.Queue<ReplayedEvent, JetStreamError | Cause.Done>

export interface TailFeedContext {
  readonly wal: WalHandleShape
  readonly target: Target
  readonly lag: LagTracker
  /** How long the tail may stay quiet while events wait before it counts as stalled. */
  readonly stallMillis: number
}

/** Starts the feed and its watchdog in the current scope (the shipping session's). */
export const startTailFeed = (
  ctx: TailFeedContext,
  queue: EventQueue,
  fromSeq: bigint
): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function* () {
    const received = { seq: fromSeq - 1n, atMillis: yield* Clock.currentTimeMillis }
    yield* Effect.forkScoped(feed(ctx, queue, fromSeq, received))
    yield* Effect.forkScoped(watch(ctx, queue, received))
  })

interface Received {
  /** The last sequence number the tail delivered. */
  seq: bigint
  atMillis: number
}

/** The WAL's events from `fromSeq` into `queue`; the queue ends with the tail (WAL shut down). */
const feed = (
  ctx: TailFeedContext,
  queue: EventQueue,
  fromSeq: bigint,
  received: Received
): Effect.Effect<void> =>
  ctx.wal.tail(fromSeq).pipe(
    Stream.runForEachArray((events) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const lastSeq = events[events.length - 1]?.seq ?? received.seq
        received.seq = lastSeq
        received.atMillis = now
        ctx.lag.observeDurable(lastSeq, now)
        return Queue.offerAll(queue, events)
      })
    ),
    Effect.matchEffect({
      onSuccess: () => Queue.end(queue),
      onFailure: (cause) =>
        Queue.fail(
          queue,
          new JetStreamError({
            ...ctx.target,
            reason: "WalReadFailed",
            detail: `reading the WAL from seq ${fromSeq}: ${cause.message}`,
            cause
          })
        )
    }),
    Effect.asVoid
  )

/** Fails the queue with `TailStalled` once the tail is quiet too long while events wait. */
const watch = (ctx: TailFeedContext, queue: EventQueue, received: Received): Effect.Effect<void> =>
  Effect.gen(function* () {
    while (true) {
      yield* Effect.sleep(ctx.stallMillis / 2)
      const durableSeq = (yield* ctx.wal.nextSeq) - 1n
      const now = yield* Clock.currentTimeMillis
      const idle = (yield* Queue.size(queue)) === 0
      if (idle && durableSeq > received.seq && now - received.atMillis >= ctx.stallMillis) {
        yield* Queue.fail(
          queue,
          new JetStreamError({
            ...ctx.target,
            reason: "TailStalled",
            detail: `the WAL's tail delivered nothing for ${now - received.atMillis} ms after seq ${received.seq}, while events up to ${durableSeq} are durable: reading them from disk`
          })
        )
        return
      }
    }
  })
