/**
 * The in-flight pipeline: up to `MAX_UNSYNCED_BATCHES` staged batches on their way to disk. The
 * bound is recovery's torn-tail window (segment/logRule.ts, rule 2), so the writer uses that
 * constant rather than one of its own: a deeper pipeline would leave, after a power cut, damage
 * the default mode refuses as corruption.
 *
 * Writes go out strictly in order (each waits for the previous write to return), but a batch's
 * sync may start while earlier syncs are still running — the disk then commits them together,
 * which is how the WAL keeps up with a plain write+sync loop while the JS thread is busy with the
 * appenders. Batches settle strictly in order, and a batch is acknowledged only if it and every
 * batch before it synced: after a failed write or sync, no later batch is acknowledged, whatever
 * its own sync said.
 *
 * With `coalesceRoomBytes` (the Writer's setting), a batch whose turn to write has come also writes
 * every batch launched behind it — they are all waiting for that turn — as one buffer with one
 * sync: under load writes queue up behind each other and their syncs, and a group of about four
 * costs one thread-pool round trip each way instead of four. The bytes, their order and the bound
 * of `MAX_UNSYNCED_BATCHES` unsynced batches are the same; each batch still settles in order.
 *
 * Each batch's I/O runs on a fiber of its own, held by its flight until the batch settles;
 * `interruptInFlight`, a finalizer of the writer's scope, interrupts those still running, so none
 * outlives the WAL. The fibers are not forked into the scope: that adds a finalizer and an exit
 * observer (a closure over the fiber and its effect) per batch, and at 1000 appenders dropping
 * them halved what each scavenge promotes (medians 0.46–0.89 MB → 0.21–0.24 MB over 6 runs each).
 * Why exactly, inside V8, was not pinned down: measured, not proved.
 */
import { Cause, Deferred, Effect, Exit, Fiber } from "effect"
import { IoError } from "../../WalError.ts"
import { MAX_UNSYNCED_BATCHES } from "../segment/logRule.ts"
import type { SegmentAppender } from "../segment/SegmentAppender.ts"
import { type SettleContext, settleDurable, settleFailed } from "./settling.ts"
import type { Staging } from "./staging.ts"

/** A batch on its way to disk: written (in order), then synced; `exit` once its sync finished. */
interface Flight {
  readonly staging: Staging
  exit: Exit.Exit<void, IoError> | undefined
  syncMillis: number
  /** The batch's I/O fiber (none for a batch with nothing to write); dropped with the flight. */
  fiber: Fiber.Fiber<unknown, unknown> | undefined
  /** Completed once the batch is written (or its I/O ended): the next batch's write waits on it. */
  writeDone: Deferred.Deferred<void> | undefined
  /** The batches this one's I/O writes and syncs, itself first (see `coalesceRoomBytes`). */
  group: ReadonlyArray<Flight>
  /** The earlier batch whose I/O wrote and synced this one with it, if any. */
  coveredBy: Flight | undefined
}

export interface PipelineOptions {
  readonly appender: Pick<SegmentAppender, "writeBatch">
  readonly settle: SettleContext
  /** The WAL's failure, if it has failed: no write may start after one. */
  readonly failure: () => IoError | undefined
  /** Records a failed write or sync the moment it happens (the lifecycle's Open → Failed). */
  readonly fail: (error: IoError) => Effect.Effect<void>
  /**
   * Whether each batch's I/O runs in a `tidal-wal.batch` span: only when a tracer that exports
   * spans was in place at open. With Effect's default tracer nothing could ever see the span (it
   * is a root, no caller's child), and making it costs a span, its links and attributes a batch.
   */
  readonly traceBatches: boolean
  /**
   * When given, a batch whose turn to write has come also writes the batches launched behind it,
   * in one buffer with one sync, as many as fit in the bytes this answers (the room left in the
   * segment being written: a group never makes a segment exceed its maximum). Fewer thread-pool
   * round trips when writes queue up behind each other. Without it every batch is its own write
   * and sync.
   */
  readonly coalesceRoomBytes?: (() => number) | undefined
}

export interface Pipeline {
  /** Puts a staged batch on its way: its write waits for the previous write, its sync does not. */
  readonly launch: (staging: Staging) => Effect.Effect<void>
  /** Waits until another batch may be launched. */
  readonly awaitRoom: Effect.Effect<void>
  /** Waits until no batch is in flight. */
  readonly drain: Effect.Effect<void>
  /** Whether `staging` is in flight (its buffer must not be reused). */
  readonly holds: (staging: Staging) => boolean
  /** The stagings in flight, oldest first. */
  readonly inFlight: () => ReadonlyArray<Staging>
  /** The oldest staging in flight. */
  readonly oldest: () => Staging | undefined
  /**
   * Interrupts the I/O of every batch in flight and refuses later launches: the writer's scope
   * runs it as it closes. Their callers are failed as each batch settles.
   */
  readonly interruptInFlight: Effect.Effect<void>
}

export const makePipeline = (options: PipelineOptions): Pipeline => {
  const flights: Array<Flight> = []
  /** Completed when the last launched batch's write returned: the next write waits for it. */
  let previousWrite: Deferred.Deferred<void> | undefined
  /** The first failure met in order: it and every batch after it fail. */
  let settledFailure: IoError | undefined
  const room = makeSignal()
  /** Set once the writer's scope closed: a later launch never starts its I/O. */
  let interrupted = false

  const launch = (staging: Staging): Effect.Effect<void> => {
    const flight: Flight = {
      staging,
      exit: undefined,
      syncMillis: 0,
      fiber: undefined,
      writeDone: undefined,
      group: [],
      coveredBy: undefined
    }
    flight.group = [flight]
    flights.push(flight)
    if (staging.written === 0) {
      // Nothing to write (all duplicates): it still settles in order, behind the batches in flight.
      flight.exit = Exit.void
      return settleInOrder
    }
    if (interrupted) {
      // The writer's scope has closed: this batch's I/O never starts.
      flight.exit = Exit.interrupt()
      return settleInOrder
    }
    const waitFor = previousWrite
    const writeDone = Deferred.makeUnsafe<void>()
    flight.writeDone = writeDone
    previousWrite = writeDone
    // The fiber registers itself as its first step, inside the fork: no interrupt can fall between.
    const registered = Effect.withFiber((fiber) => {
      flight.fiber = fiber
      return flightIo(flight, waitFor)
    })
    return Effect.asVoid(Effect.forkDetach(registered, { startImmediately: true }))
  }

  /** Write (after the previous write), then sync; records the outcome and settles what it can. */
  const flightIo = (flight: Flight, waitFor: Deferred.Deferred<void> | undefined) => {
    const { staging } = flight
    return Effect.gen(function* () {
      if (waitFor !== undefined) yield* Deferred.await(waitFor)
      // Written and synced by an earlier batch's I/O, together with it: nothing left to do here.
      if (flight.coveredBy !== undefined) return
      const stop = options.failure()
      if (stop !== undefined) return yield* Effect.fail(stop)
      if (options.coalesceRoomBytes !== undefined) {
        flight.group = claimWaiting(flights, flight, options.coalesceRoomBytes())
      }
      const sync = yield* writeGroup(options.appender, flight.group)
      markWritten(flight.group)
      const syncStart = performance.now()
      yield* sync
      const syncMillis = performance.now() - syncStart
      for (const member of flight.group) member.syncMillis = syncMillis
    }).pipe(
      // Any failure, a defect included, closes the WAL at once: no later write may start.
      Effect.tapCause((cause) =>
        Cause.hasInterruptsOnly(cause) ? Effect.void : options.fail(asIoError(cause))
      ),
      (io) => (options.traceBatches ? inBatchSpan(io, staging) : io),
      Effect.ensuring(Effect.sync(() => markWritten(flight.group))),
      (io) => settlingOnExit(io, flight, settleInOrder)
    )
  }

  /** Settles finished batches from the oldest on, stopping at the first still in flight. */
  const settleInOrder: Effect.Effect<void> = Effect.suspend(() => {
    const failedBefore = settledFailure
    const after: Array<Effect.Effect<void>> = []
    settledFailure = settleReady(flights, settledFailure, options.settle, after)
    room.wake()
    // A defect in a batch's I/O is a failure too: it closes the WAL like a failed sync.
    const failing =
      failedBefore === undefined && settledFailure !== undefined ? options.fail(settledFailure) : Effect.void
    return after.length === 0 ? failing : Effect.andThen(Effect.all(after, { discard: true }), failing)
  })

  return {
    launch,
    awaitRoom: room.waitUntil(() => flights.length < MAX_UNSYNCED_BATCHES),
    drain: room.waitUntil(() => flights.length === 0),
    holds: (staging) => flights.some((flight) => flight.staging === staging),
    inFlight: () => flights.map((flight) => flight.staging),
    oldest: () => flights[0]?.staging,
    interruptInFlight: Effect.suspend(() => {
      interrupted = true
      return interruptFlights(flights)
    })
  }
}

// internals

/**
 * Interrupts the I/O fibers of `flights`, newest first as a scope's finalizers run: interrupting a
 * batch completes its write's Deferred, which would otherwise wake the next batch's write first.
 */
const interruptFlights = (flights: ReadonlyArray<Flight>): Effect.Effect<void> =>
  Fiber.interruptAll(
    flights.flatMap((flight) => (flight.fiber === undefined ? [] : [flight.fiber])).reverse()
  )

/**
 * Settles the finished flights at the head of `flights`, in order; answers the first failure met
 * (from `failure` on, every batch fails with it) and pushes what settled batches asked to run
 * next (live-tail publishes) onto `after`, in batch order.
 */
const settleReady = (
  flights: Array<Flight>,
  failure: IoError | undefined,
  settle: SettleContext,
  after: Array<Effect.Effect<void>>
): IoError | undefined => {
  let failed = failure
  while (flights.length > 0) {
    const head = flights[0] as Flight
    if (head.exit === undefined) break
    flights.shift()
    if (failed === undefined && head.exit._tag === "Failure") failed = asIoError(head.exit.cause)
    if (failed !== undefined) {
      settleFailed(head.staging, failed, settle)
      continue
    }
    const next = settleDurable(head.staging, head.syncMillis, settle)
    if (next !== undefined) after.push(next)
  }
  return failed
}

/**
 * Records the batch's outcome once its I/O ends and settles what it can. Interrupted from outside
 * (the writer's scope closing), a fiber skips every step but its finalizers: the batch must still
 * settle then, or its callers wait forever.
 */
const settlingOnExit = (
  io: Effect.Effect<void, IoError>,
  flight: Flight,
  settleInOrder: Effect.Effect<void>
): Effect.Effect<void> =>
  io.pipe(
    Effect.exit,
    Effect.flatMap((exit) => {
      // A covered batch's outcome is its group's: the I/O that wrote it records it.
      if (flight.coveredBy === undefined) for (const member of flight.group) member.exit = exit
      return settleInOrder
    }),
    Effect.onInterrupt(() =>
      Effect.suspend(() => {
        if (flight.coveredBy === undefined)
          for (const member of flight.group) member.exit ??= Exit.interrupt()
        return settleInOrder
      })
    )
  )

/**
 * `flight` and the batches launched behind it that write, as many as fit in `roomBytes` with it:
 * all of them are waiting for their turn, which comes only after `flight`'s write. Each one
 * claimed is marked covered by `flight`.
 */
const claimWaiting = (
  flights: ReadonlyArray<Flight>,
  flight: Flight,
  roomBytes: number
): ReadonlyArray<Flight> => {
  const group = [flight]
  let bytes = flight.staging.sizeBytes
  for (let i = flights.indexOf(flight) + 1; i < flights.length; i++) {
    const next = flights[i] as Flight
    // Batches with nothing to write, or launched after the scope closed, are not in the chain.
    if (next.writeDone === undefined) continue
    // The group is contiguous in write order: the first that does not fit ends it.
    if (bytes + next.staging.sizeBytes > roomBytes) break
    bytes += next.staging.sizeBytes
    next.coveredBy = flight
    group.push(next)
  }
  return group
}

/** Writes the group's batches, in order, as one buffer; answers the sync that covers them all. */
const writeGroup = (appender: Pick<SegmentAppender, "writeBatch">, group: ReadonlyArray<Flight>) => {
  const first = (group[0] as Flight).staging
  const last = (group[group.length - 1] as Flight).staging
  const lastSeq = last.firstSeq + BigInt(last.written - 1)
  if (group.length === 1)
    return appender.writeBatch(first.buffer.subarray(0, first.sizeBytes), first.firstSeq, lastSeq)
  const bytes = new Uint8Array(group.reduce((total, member) => total + member.staging.sizeBytes, 0))
  let offset = 0
  for (const { staging } of group) {
    bytes.set(staging.buffer.subarray(0, staging.sizeBytes), offset)
    offset += staging.sizeBytes
  }
  return appender.writeBatch(bytes, first.firstSeq, lastSeq, group.length)
}

/** Lets the batches behind the group write: their turn has come, or they were part of it. */
const markWritten = (group: ReadonlyArray<Flight>): void => {
  for (const member of group)
    if (member.writeDone !== undefined) Deferred.doneUnsafe(member.writeDone, Exit.void)
}

/** The batch's I/O in its `tidal-wal.batch` span. */
const inBatchSpan = <A, E>(io: Effect.Effect<A, E>, staging: Staging): Effect.Effect<A, E> =>
  Effect.withSpan(
    "tidal-wal.batch",
    {
      attributes: { "wal.first_seq": String(staging.firstSeq), "wal.events": staging.written },
      // A batch serves many callers' traces: a trace of its own, linked to each caller's span.
      root: true,
      links: staging.callerSpans.map((span) => ({ span, attributes: {} }))
    },
    // A stack trace per batch costs more than the span; the span's name says where it is.
    { captureStackTrace: false }
  )(io)

/** A condition the writer fiber waits on, re-checked every time a batch settles. */
const makeSignal = () => {
  let waiter: Deferred.Deferred<void> | undefined
  const waitUntil = (condition: () => boolean): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (condition()) return Effect.void
      const w = Deferred.makeUnsafe<void>()
      waiter = w
      return Effect.andThen(Deferred.await(w), waitUntil(condition))
    })
  const wake = (): void => {
    const w = waiter
    waiter = undefined
    if (w !== undefined) Deferred.doneUnsafe(w, Exit.void)
  }
  return { waitUntil, wake }
}

/** The batch's IoError; a defect in the I/O path is reported as one too, never left unanswered. */
const asIoError = (cause: Cause.Cause<IoError>): IoError => {
  const error = Cause.findErrorOption(cause)
  return error._tag === "Some"
    ? error.value
    : new IoError({ operation: "write", path: "(writer)", cause: Cause.squash(cause) })
}
