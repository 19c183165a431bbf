/**
 * The shipping loop (docs/JETSTREAM.md "Exactly once"): follow the WAL, publish consecutive
 * events as messages, one at a time, each acknowledged before the next is sent.
 *
 * Exactly once rests on three things. Each message's id is the WAL id and its first sequence
 * number, so a retry of the same events is dropped by the server's duplicate window. Each publish
 * expects the subject's last message to be the one acknowledged before it
 * (`Nats-Expected-Last-Subject-Sequence`), so a late or stray publish can never land out of order.
 * And after any failure the loop forgets what it believed and re-reads where the copy ends from
 * the stream itself. Appends are never slowed: the WAL's tail drops what a slow reader has not
 * taken and the reader re-reads it from disk, while the retention hold keeps those segments.
 */
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream"
import { headers, type NatsConnection } from "@nats-io/transport-node"
import { Cause, Clock, Effect, Metric, Queue } from "effect"
import type { RetentionHold } from "../internal/wal/retentionHolds.ts"
import type { ReplayedEvent } from "../SignalEvent.ts"
import type { WalHandleShape } from "../WalHandle.ts"
import { request, type Target } from "./connection.ts"
import { JetStreamError } from "./JetStreamError.ts"
import type { LagTracker } from "./lagTracker.ts"
import {
  EVENT_COUNT_HEADER,
  encodeMessageBody,
  eventsPerMessage,
  FIRST_SEQ_HEADER,
  messageIdFor,
  WAL_ID_HEADER
} from "./messageFormat.ts"
import type { ResolvedShipperOptions } from "./options.ts"
import { readShippedPosition, type ShippedPosition } from "./shippedPosition.ts"
import { recordLag, recordMessage, type ShipperMetrics } from "./shipperMetrics.ts"
import type { ShipperState } from "./shipperState.ts"
import { messageBytesWithin, shippingProblems } from "./streamChecks.ts"
import { type EventQueue, startTailFeed } from "./tailFeed.ts"

export interface ShipContext {
  readonly wal: WalHandleShape
  readonly connection: NatsConnection
  readonly js: JetStreamClient
  readonly jsm: JetStreamManager
  readonly options: ResolvedShipperOptions
  readonly target: Target
  readonly state: ShipperState
  readonly hold: RetentionHold
  readonly lag: LagTracker
  readonly metrics: ShipperMetrics
}

/**
 * Events the session may hold between the tail and the publisher, whatever the message size: a
 * publisher briefly slower than the WAL then does not push the tail into re-reading from disk.
 */
const MIN_QUEUED_EVENTS = 16_384

/** The shortest quiet time after which a tail with events waiting counts as stalled. */
const MIN_STALL_MILLIS = 1000

/** What a session starts from: where the copy ends, and how many events a message may hold. */
export interface Prepared {
  readonly position: ShippedPosition
  readonly maxEvents: number
}

/** Checks the stream and reads where the copy ends. */
export const prepare = (ctx: ShipContext): Effect.Effect<Prepared, JetStreamError> =>
  Effect.gen(function* () {
    const { target, options } = ctx
    const info = yield* request(target, "reading the stream's configuration", () =>
      ctx.jsm.streams.info(target.stream)
    )
    const problems = shippingProblems(info.config, {
      subject: target.subject,
      minDuplicateWindowNanos: options.minDuplicateWindowMillis * 1e6
    })
    const messageBytes = messageBytesWithin(
      options.maxMessageBytes,
      ctx.connection.info?.max_payload,
      info.config.max_msg_size
    )
    const maxEvents = eventsPerMessage(messageBytes)
    if (maxEvents < 1) problems.push(`max_msg_size or the server's max_payload leaves no room for one event`)
    if (problems.length > 0) {
      return yield* new JetStreamError({
        ...target,
        reason: "StreamMisconfigured",
        detail: problems.join("; ")
      })
    }
    const position = yield* readShippedPosition(ctx.jsm, target, ctx.wal.walId)
    const durableSeq = (yield* ctx.wal.nextSeq) - 1n
    if (position.lastSeq > durableSeq) {
      return yield* new JetStreamError({
        ...target,
        reason: "StreamAheadOfWal",
        detail: `the copy ends at seq ${position.lastSeq}, the WAL at ${durableSeq}: was the WAL directory replaced?`
      })
    }
    const firstKeptSeq = (yield* ctx.wal.listSegments)[0]?.firstSeq
    if (
      position.subjectStreamSeq !== 0 &&
      firstKeptSeq !== undefined &&
      firstKeptSeq > position.lastSeq + 1n
    ) {
      return yield* new JetStreamError({
        ...target,
        reason: "Gap",
        detail: `the copy ends at seq ${position.lastSeq} but the WAL now starts at ${firstKeptSeq}: events never shipped were truncated while no shipper held them`
      })
    }
    return { position, maxEvents }
  })

/**
 * Ships from where `prepared` says the copy ends until the WAL shuts down (success) or an
 * attempt fails (the error, for the caller to retry or stop on).
 */
export const shipSession = (ctx: ShipContext, prepared: Prepared): Effect.Effect<void, JetStreamError> =>
  Effect.scoped(
    Effect.gen(function* () {
      let position = prepared.position
      ctx.state.resumed()
      yield* acknowledged(ctx, position.lastSeq)
      const queue: EventQueue = yield* Queue.bounded<ReplayedEvent, JetStreamError | Cause.Done>(
        Math.max(prepared.maxEvents * 2, MIN_QUEUED_EVENTS)
      )
      const stallMillis = Math.max(MIN_STALL_MILLIS, 2 * ctx.options.lagSampleIntervalMillis)
      yield* startTailFeed({ ...ctx, stallMillis }, queue, position.lastSeq + 1n)
      while (true) {
        const events = yield* Queue.takeBetween(queue, 1, prepared.maxEvents).pipe(
          Effect.catchIf(Cause.isDone, () => Effect.succeed(undefined))
        )
        if (events === undefined) return
        yield* checkConsecutive(ctx, position, events)
        position = yield* publishMessage(ctx, position, events)
      }
    })
  )

/** Moves every record of progress to `lastSeq`: state, retention hold, lag. */
const acknowledged = (ctx: ShipContext, lastSeq: bigint): Effect.Effect<void> =>
  Effect.gen(function* () {
    ctx.state.shippedUpTo(lastSeq)
    ctx.lag.acknowledged(lastSeq)
    yield* ctx.hold.advanceTo(lastSeq + 1n)
    const now = yield* Clock.currentTimeMillis
    yield* Metric.update(ctx.metrics.shippedSeq, ctx.state.shippedSeq)
    yield* recordLag(ctx.metrics, ctx.lag.lagEvents(), ctx.lag.lagMillis(now))
  })

/**
 * The events must continue the copy exactly. The one exception: an empty subject takes whatever
 * the WAL still has, which starts later than 1 if the WAL was truncated before shipping began.
 */
const checkConsecutive = (
  ctx: ShipContext,
  position: ShippedPosition,
  events: ReadonlyArray<ReplayedEvent>
): Effect.Effect<void, JetStreamError> => {
  const first = events[0]?.seq ?? 0n
  let expected = position.subjectStreamSeq === 0 ? first : position.lastSeq + 1n
  for (const event of events) {
    if (event.seq !== expected) {
      return Effect.fail(
        new JetStreamError({
          ...ctx.target,
          reason: "Gap",
          detail: `the WAL gave seq ${event.seq} where ${expected} continues the copy: events the copy lacks were truncated from the WAL`
        })
      )
    }
    expected++
  }
  return Effect.void
}

/** Publishes `events` as one message and waits for JetStream's acknowledgement. */
const publishMessage = (
  ctx: ShipContext,
  position: ShippedPosition,
  events: ReadonlyArray<ReplayedEvent>
): Effect.Effect<ShippedPosition, JetStreamError> =>
  Effect.gen(function* () {
    const { target, options } = ctx
    const firstSeq = events[0]?.seq ?? 0n
    const lastSeq = firstSeq + BigInt(events.length) - 1n
    const body = encodeMessageBody(events, yield* Clock.currentTimeNanos)
    const messageHeaders = headers()
    messageHeaders.set(WAL_ID_HEADER, ctx.wal.walId)
    messageHeaders.set(FIRST_SEQ_HEADER, String(firstSeq))
    messageHeaders.set(EVENT_COUNT_HEADER, String(events.length))
    const startedMillis = yield* Clock.currentTimeMillis
    const ack = yield* request(target, `publishing events ${firstSeq}..${lastSeq}`, () =>
      ctx.js.publish(target.subject, body, {
        msgID: messageIdFor(ctx.wal.walId, firstSeq),
        expect: { lastSubjectSequence: position.subjectStreamSeq },
        timeout: options.publishTimeoutMillis,
        headers: messageHeaders
      })
    )
    if (ack.stream !== target.stream) {
      return yield* new JetStreamError({
        ...target,
        reason: "StreamMisconfigured",
        detail: `stream ${ack.stream} acknowledged the publish: the subject moved to another stream`
      })
    }
    if (ack.duplicate) {
      // An earlier attempt with this first seq is stored, perhaps with fewer events: trust only the stream.
      return yield* new JetStreamError({
        ...target,
        reason: "Rejected",
        detail: `duplicate of message ${ack.seq} starting at seq ${firstSeq}: re-reading where the copy ends`
      })
    }
    const ackedMillis = yield* Clock.currentTimeMillis
    yield* acknowledged(ctx, lastSeq)
    yield* recordMessage(ctx.metrics, lastSeq, events.length, ackedMillis - startedMillis)
    return { lastSeq, subjectStreamSeq: ack.seq }
  })

/** The pause before retry `attempt` (0-based): doubling from the minimum, capped at the maximum. */
export const retryDelayMillis = (options: ResolvedShipperOptions, attempt: number): number =>
  Math.min(options.retryMaxDelayMillis, options.retryMinDelayMillis * 2 ** Math.min(attempt, 30))

/** Sessions until the WAL shuts down or a failure cannot be retried; records either in the state. */
export const shipUntilStopped = (ctx: ShipContext, first: Prepared): Effect.Effect<void> =>
  Effect.gen(function* () {
    let next: Prepared | undefined = first
    let attempt = 0
    while (true) {
      const shippedBefore = ctx.state.shippedSeq
      const session: Effect.Effect<void, JetStreamError> =
        next === undefined ? Effect.flatMap(prepare(ctx), (p) => shipSession(ctx, p)) : shipSession(ctx, next)
      next = undefined
      const result = yield* Effect.result(session)
      if (result._tag === "Success") return ctx.state.stop(undefined)
      const error = result.failure
      if (!error.isTransient) {
        yield* Effect.logError(`tidal-wal shipper stopped: ${error.message}`)
        return ctx.state.stop(error)
      }
      if (ctx.state.shippedSeq > shippedBefore) attempt = 0
      attempt++
      ctx.state.retrying(error, attempt)
      yield* Metric.update(ctx.metrics.retries, 1)
      yield* Effect.logWarning(`tidal-wal shipper retrying (attempt ${attempt}): ${error.message}`)
      yield* Effect.sleep(retryDelayMillis(ctx.options, attempt - 1))
    }
  })
