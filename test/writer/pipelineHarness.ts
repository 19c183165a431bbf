/**
 * Drives the writer's batch path (batchWriter.ts → pipeline.ts → settling.ts) without the queue
 * or the writer fiber: a test stages batches itself, and the storage under them is either an
 * in-memory appender whose every write and sync the test completes, fails or kills by hand, or
 * any other `writeBatch` (the real appender over a held-sync file system).
 *
 * The harness wires the writer as the Writer layer does — durable marks go to a real
 * `WalLifecycle` (whose invariants then check the settle order), `fail` is the lifecycle's
 * Open → Failed — and records what the writer did, so a test can assert on every caller's answer.
 */
import { Deferred, Effect, Exit, Scope } from "effect"
import type { IoError } from "../../src/index.ts"
import { disabledDedupWindow } from "../../src/internal/dedup/DedupWindow.ts"
import { WalLifecycle } from "../../src/internal/layers/Lifecycle.ts"
import type { SegmentAppender } from "../../src/internal/segment/SegmentAppender.ts"
import { makeBatchWriter } from "../../src/internal/writer/batchWriter.ts"
import { type AppendOne, appendOne, NOT_TIMED } from "../../src/internal/writer/requests.ts"
import { eventFor } from "../support/wal.ts"

export type Appender = Pick<SegmentAppender, "writeBatch">

/** One batch's I/O in the in-memory appender: the test completes `write`, then `sync`. */
export interface HeldIo {
  readonly firstSeq: bigint
  readonly write: Deferred.Deferred<void, IoError>
  readonly sync: Deferred.Deferred<void, IoError>
  /** Set when the fiber waiting on `write` or `sync` was interrupted. */
  interrupted: boolean
}

/** An appender that holds each batch's write and then its sync until the test completes them. */
export const makeHeldAppender = () => {
  const calls: Array<HeldIo> = []
  const hold = (io: HeldIo, step: Deferred.Deferred<void, IoError>) =>
    Deferred.await(step).pipe(
      Effect.onInterrupt(() =>
        Effect.sync(() => {
          io.interrupted = true
        })
      )
    )
  const appender: Appender = {
    writeBatch: (_batch, firstSeq) =>
      Effect.suspend(() => {
        const io: HeldIo = {
          firstSeq,
          write: Deferred.makeUnsafe(),
          sync: Deferred.makeUnsafe(),
          interrupted: false
        }
        calls.push(io)
        return Effect.as(hold(io, io.write), hold(io, io.sync))
      })
  }
  return { appender, calls }
}

export type Outcome =
  | { readonly _tag: "Pending" }
  | { readonly _tag: "Acked"; readonly seq: bigint }
  | { readonly _tag: "Failed"; readonly error: unknown }

/** What an append was answered, if it was. */
export const outcomeOf = (request: AppendOne): Outcome => {
  const exit = request.exit
  if (exit === undefined) return { _tag: "Pending" }
  if (Exit.isSuccess(exit)) return { _tag: "Acked", seq: exit.value }
  const reason = exit.cause.reasons[0]
  return { _tag: "Failed", error: reason?._tag === "Fail" ? reason.error : reason }
}

export interface HarnessOptions {
  readonly appender: Appender
  readonly eventsPerBatch: number
  /** Coalescing is off unless given: most tests here follow one write and one sync per batch. */
  readonly coalesceRoomBytes?: () => number
}

/** A batch writer in a scope the test owns, with everything it does recorded. */
export const makeHarness = (options: HarnessOptions) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const lifecycle = new WalLifecycle("/held", 0n)
    /** Every error `fail` was called with, and those that moved the lifecycle Open → Failed. */
    const failCalls: Array<IoError> = []
    const failures: Array<IoError> = []
    /** The first sequence number of each durable batch, in the order they settled. */
    const durable: Array<bigint> = []
    /** The appends in the order they were answered. */
    const answered: Array<AppendOne> = []
    /** The appends of each staged batch, in staging order. */
    const batches: Array<ReadonlyArray<AppendOne>> = []
    const writer = makeBatchWriter({
      batchMaxEvents: options.eventsPerBatch,
      appender: options.appender,
      dedup: disabledDedupWindow,
      lifecycle,
      traceBatches: false,
      coalesceRoomBytes: options.coalesceRoomBytes,
      onDurable: (batch, eventsWritten) => {
        durable.push(batch.firstSeq)
        lifecycle.markDurable(batch.firstSeq + BigInt(eventsWritten) - 1n)
      },
      onCompleted: (request) => {
        if (request._tag === "AppendOne") answered.push(request)
      },
      fail: (error) =>
        Effect.sync(() => {
          failCalls.push(error)
          if (lifecycle.fail(error)) failures.push(error)
        })
    })

    // As the Writer layer does: closing the scope interrupts the batches in flight.
    yield* Scope.addFinalizer(scope, writer.interruptInFlight)

    /** Stages the next batch (`eventsPerBatch` appends) and puts it on its way. */
    const stageBatch = Effect.suspend(() => {
      const first = batches.length * options.eventsPerBatch
      const requests = Array.from({ length: options.eventsPerBatch }, (_, i) =>
        appendOne(eventFor(first + i), NOT_TIMED, undefined)
      )
      for (const request of requests) writer.addOne(request)
      batches.push(requests)
      return writer.flush
    })

    /** What each batch's appends were answered: one outcome per batch, checked to agree. */
    const batchOutcomes = (): Array<Outcome> =>
      batches.map((requests) => {
        const outcomes = requests.map(outcomeOf)
        const tags = new Set(outcomes.map((outcome) => outcome._tag))
        if (tags.size !== 1) throw new Error(`one batch answered two ways: ${[...tags].join(", ")}`)
        return outcomes[0] ?? { _tag: "Pending" }
      })

    return {
      scope,
      lifecycle,
      writer,
      failCalls,
      failures,
      durable,
      answered,
      batches,
      stageBatch,
      batchOutcomes,
      close: Scope.close(scope, Exit.void)
    }
  })

export type Harness = Effect.Success<ReturnType<typeof makeHarness>>

/**
 * Lets every fiber that can run, run: the batches' fibers resume on the scheduler after a
 * Deferred completes. Enough turns for any chain of wake-ups these tests start (each is a few).
 */
export const letFibersRun = Effect.gen(function* () {
  for (let turn = 0; turn < 50; turn++) yield* Effect.yieldNow
})

/** Runs fibers until `condition` holds; a defect naming `what` if it never does. */
export const runUntil = (what: string, condition: () => boolean) =>
  Effect.gen(function* () {
    for (let turn = 0; turn < 1000; turn++) {
      if (condition()) return
      yield* Effect.yieldNow
    }
    return yield* Effect.die(new Error(`never happened: ${what}`))
  })
