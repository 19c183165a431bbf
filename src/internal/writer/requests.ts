/**
 * What travels through the writer's queue: appends waiting for their batch, and commands that
 * must run serialised with writes (checkpoint, truncateBefore).
 *
 * Each append carries a `Completion` its caller waits on: a one-shot slot lighter than a
 * `Deferred` (appends are the hot path), safe to complete before the caller starts waiting.
 * Completing twice is a no-op, which lets the writer's last-resort error path fail every request
 * it holds without tracking which ones already completed.
 */
import { Effect, Exit, type Tracer } from "effect"
import type { SignalEvent } from "../../SignalEvent.ts"
import type { ClosedError, IoError } from "../../WalError.ts"
import type { CapturedEvents } from "../wal/captureEvents.ts"

/** What an append or command can be failed with once it is queued. */
export type QueuedFailure = ClosedError | IoError

/** A one-shot result slot: completed by the writer, awaited by the caller, in either order. */
export interface Completion<A> {
  exit: Exit.Exit<A, QueuedFailure> | undefined
  resume: ((effect: Effect.Effect<A, QueuedFailure>) => void) | undefined
}

export const complete = <A>(completion: Completion<A>, exit: Exit.Exit<A, QueuedFailure>): void => {
  if (completion.exit !== undefined) return
  completion.exit = exit
  completion.resume?.(exit)
}

export const awaitCompletion = <A>(completion: Completion<A>): Effect.Effect<A, QueuedFailure> =>
  Effect.callback<A, QueuedFailure>((resume) => {
    if (completion.exit !== undefined) resume(completion.exit)
    else completion.resume = resume
  })

/** One event; the request is its own completion slot (one object per append, not two). */
export interface AppendOne extends Completion<bigint> {
  readonly _tag: "AppendOne"
  readonly event: SignalEvent
  /** `performance.now()` when the call was made, or `NOT_TIMED`: see `LATENCY_SAMPLE_EVERY`. */
  readonly startMillis: number
  /** The caller's span, if it had one: the batch's span links to it. */
  readonly callerSpan: Tracer.AnySpan | undefined
}

/**
 * One `append` in this many is timed for the latency histogram (every `appendAll` chunk is).
 * Reading the clock and updating an effect histogram cost about 400 ns, a sixth of an append's
 * whole cost on the hot path; a fixed one-in-16 sample keeps the distribution and drops that.
 */
export const LATENCY_SAMPLE_EVERY = 16
export const NOT_TIMED = -1

/** Part of one `appendAll` call: it completes when every one of its events is durable. */
export interface AppendMany extends Completion<ReadonlyArray<bigint>>, CapturedEvents {
  readonly _tag: "AppendMany"
  readonly startMillis: number
  readonly callerSpan: Tracer.AnySpan | undefined
  readonly seqs: Array<bigint>
  remaining: number
}

export interface Command {
  readonly _tag: "Command"
  /** Runs on the writer fiber; completes the caller's Deferred itself. */
  readonly run: Effect.Effect<void>
  readonly reject: (error: QueuedFailure) => void
}

export type WriterRequest = AppendOne | AppendMany | Command

/**
 * A class, not an object literal. V8 may pretenure a literal's allocation site — allocate its
 * objects straight in old space — once most of them survive a scavenge, as a thousand requests in
 * flight do while the heap is still small; each old request then keeps its young Exit, resume
 * closure and event alive until the next full GC. At 1000 appenders with the literal, 2 runs of 4
 * promoted about 10 MB a scavenge; with the class, 9 of 10 runs promoted a median of 0.21–0.25 MB
 * and the tenth 2.9 MB (measured, not proved: V8's pretenuring decisions vary from run to run).
 */
class AppendOneRequest implements AppendOne {
  readonly _tag = "AppendOne"
  exit: Exit.Exit<bigint, QueuedFailure> | undefined = undefined
  resume: ((effect: Effect.Effect<bigint, QueuedFailure>) => void) | undefined = undefined
  readonly event: SignalEvent
  readonly startMillis: number
  readonly callerSpan: Tracer.AnySpan | undefined
  constructor(event: SignalEvent, startMillis: number, callerSpan: Tracer.AnySpan | undefined) {
    this.event = event
    this.startMillis = startMillis
    this.callerSpan = callerSpan
  }
}

export const appendOne = (
  event: SignalEvent,
  startMillis: number,
  callerSpan: Tracer.AnySpan | undefined
): AppendOne => new AppendOneRequest(event, startMillis, callerSpan)

export const appendMany = (events: CapturedEvents, callerSpan: Tracer.AnySpan | undefined): AppendMany => ({
  _tag: "AppendMany",
  records: events.records,
  count: events.count,
  startMillis: performance.now(),
  callerSpan,
  seqs: new Array<bigint>(events.count),
  remaining: events.count,
  exit: undefined,
  resume: undefined
})

export const reject = (request: WriterRequest, error: QueuedFailure): void => {
  switch (request._tag) {
    case "AppendOne":
      complete(request, Exit.fail(error))
      return
    case "AppendMany":
      complete(request, Exit.fail(error))
      return
    case "Command":
      request.reject(error)
  }
}

/**
 * Records the outcome of event `index` of an append (`index` is ignored for `AppendOne`). When
 * this completes the caller's request, `onCompleted` runs first — completing the Deferred may
 * resume the caller at once, and it must see everything recorded about its append.
 */
export const settle = (
  request: AppendOne | AppendMany,
  index: number,
  seq: bigint,
  onCompleted: (request: AppendOne | AppendMany) => void
): void => {
  if (request._tag === "AppendOne") {
    onCompleted(request)
    complete(request, Exit.succeed(seq))
    return
  }
  request.seqs[index] = seq
  request.remaining--
  if (request.remaining > 0) return
  onCompleted(request)
  complete(request, Exit.succeed(request.seqs))
}
