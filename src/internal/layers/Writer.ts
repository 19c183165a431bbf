/**
 * The writer as a service: the bounded request queue, the single writer fiber consuming it, the
 * batches in flight, and the live-tail feed of durable batches.
 *
 * Its finalizer is the WAL's drain: mark the lifecycle ShuttingDown, end the queue, let the fiber
 * write and sync everything queued, then close the feed. It is registered after the fiber is
 * forked and after the batches' scope is made, so it runs before either is interrupted.
 */
import {
  Cause,
  Context,
  Duration,
  Effect,
  Fiber,
  Layer,
  PubSub,
  Queue,
  Schedule,
  Scope,
  Tracer
} from "effect"
import type { GroupCommitWindow } from "../../GroupCommitWindow.ts"
import * as GroupCommit from "../../GroupCommitWindow.ts"
import type { ResolvedWalConfig } from "../../WalConfig.ts"
import { InvalidConfigError, IoError } from "../../WalError.ts"
import { DedupWindow } from "../dedup/DedupWindow.ts"
import { type PublishedBatch, TAIL_BUFFER_BATCHES } from "../reader/liveTail.ts"
import { formatValue } from "../schemaIssue.ts"
import { makeBatchWriter } from "../writer/batchWriter.ts"
import { NOT_TIMED, reject, type WriterRequest } from "../writer/requests.ts"
import type { DurableBatch } from "../writer/settling.ts"
import { runWriterLoop } from "../writer/writerLoop.ts"
import { Lifecycle, type WalLifecycle } from "./Lifecycle.ts"
import { Metrics } from "./Metrics.ts"
import { SegmentStorage } from "./SegmentStorage.ts"
import { WalDirectory } from "./WalDirectory.ts"

export interface WriterShape {
  readonly queue: Queue.Queue<WriterRequest, Cause.Done>
  /** Every durable batch, for live tails; published only while someone is subscribed. */
  readonly published: PubSub.PubSub<PublishedBatch>
  /** Counts live-tail subscriptions (+1 / -1). */
  readonly subscribed: (delta: 1 | -1) => void
  /**
   * Whether a tracer that exports spans was in place at open. Only then do batches run in spans
   * and appends read their caller's span for the batch's links: Effect's default tracer keeps
   * spans in memory, where nothing could see them.
   */
  readonly spansExported: boolean
}

/** @internal */
export class Writer extends Context.Service<Writer, WriterShape>()("tidal-wal/Writer") {
  static readonly layer = Layer.effect(
    Writer,
    Effect.gen(function* () {
      const { config, dir } = yield* WalDirectory
      const lifecycle = yield* Lifecycle
      const metrics = yield* Metrics
      const appender = yield* SegmentStorage
      const dedup = yield* DedupWindow
      const queue = yield* Queue.bounded<WriterRequest, Cause.Done>(config.queueCapacity)
      const published = yield* PubSub.sliding<PublishedBatch>(TAIL_BUFFER_BATCHES)
      let subscribers = 0
      // Made before the drain finalizer is registered, so it is closed after the drain.
      const batchScope = yield* Scope.fork(yield* Effect.scope)
      const spansExported = (yield* Tracer.Tracer) !== Tracer.Tracer.defaultValue()
      const closeForWriting = closer(dir, lifecycle, queue)
      const batchWriter = makeBatchWriter({
        batchMaxEvents: config.batchMaxEvents,
        appender,
        dedup,
        lifecycle,
        fail: closeForWriting,
        traceBatches: spansExported,
        coalesceRoomBytes: () => appender.coalesceRoomBytes(),
        onDurable: (batch: DurableBatch, eventsWritten, duplicates, syncMillis) => {
          metrics.batchDurable(eventsWritten, duplicates, syncMillis)
          if (eventsWritten === 0) return undefined
          lifecycle.markDurable(batch.firstSeq + BigInt(eventsWritten) - 1n)
          metrics.segments(appender.segmentCount())
          // `publish`, not `publishUnsafe`: only the effectful form slides (drops the oldest) when
          // a slow tail's buffer is full; the unsafe one drops the newest, and a tail at the end of
          // a burst would then wait for the next append to notice it is behind.
          return subscribers > 0
            ? Effect.asVoid(
                PubSub.publish(published, { firstSeq: batch.firstSeq, records: batch.records.slice() })
              )
            : undefined
        },
        onCompleted: (request, nowMillis) => {
          if (request.startMillis !== NOT_TIMED) metrics.appendSettled(nowMillis - request.startMillis)
        }
      })
      // No batch's I/O outlives the WAL: closed after the drain, this interrupts what is still in flight.
      yield* Scope.addFinalizer(batchScope, batchWriter.interruptInFlight)
      const loop = yield* Effect.forkScoped(
        runWriterLoop({
          queue,
          batchWriter,
          batchMaxEvents: config.batchMaxEvents,
          window: (yield* providedWindow) ?? groupCommitWindow(config),
          lifecycle,
          onGroup: () => metrics.queueDepth(Queue.sizeUnsafe(queue))
        }).pipe(Effect.catchCause((cause) => writerDied(cause, dir, lifecycle, queue)))
      )
      yield* Effect.addFinalizer(() => drain(lifecycle, queue, loop, published))
      return {
        queue,
        published,
        spansExported,
        subscribed: (delta) => {
          subscribers += delta
        }
      }
    })
  )
}

// internals

/**
 * The window provided with `GroupCommitWindow.layer`, if any. From plain JavaScript anything can
 * be provided: what is not a `Schedule` fails open, before the writer would trip on it.
 */
const providedWindow = Effect.flatMap(
  Effect.service(GroupCommit.GroupCommitSchedule),
  (provided): Effect.Effect<GroupCommitWindow | undefined, InvalidConfigError> =>
    provided === undefined || Schedule.isSchedule(provided as unknown)
      ? Effect.succeed(provided)
      : Effect.fail(
          new InvalidConfigError({
            field: "GroupCommitSchedule",
            value: formatValue(provided),
            detail: "expected a Schedule (GroupCommitWindow.window, GroupCommitWindow.adaptive or your own)"
          })
        )
)

/** The config's group-commit policy as the collector's window. */
const groupCommitWindow = (config: ResolvedWalConfig): GroupCommitWindow | "eager" =>
  config.groupCommit === "eager" ? "eager" : GroupCommit.window(Duration.millis(config.batchMaxWaitMillis))

/** Closes the WAL for writing after a failed write or sync: the first failure is logged and ends the queue. */
const closer =
  (dir: string, lifecycle: WalLifecycle, queue: Queue.Queue<WriterRequest, Cause.Done>) =>
  (error: IoError): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (!lifecycle.fail(error)) return Effect.void
      return Effect.logError(
        `tidal-wal: closed for writing after a failed ${error.operation} of ${error.path}; reopen to recover`
      ).pipe(
        Effect.annotateLogs({ dir, file: error.path, operation: error.operation, error: error.message }),
        Effect.andThen(Queue.end(queue))
      )
    })

/**
 * A defect in the writer (a bug, never bad input: events are captured and checked at the call)
 * closes the WAL like a failed write: every queued and later call fails, none hangs.
 */
const writerDied = (
  cause: Cause.Cause<never>,
  dir: string,
  lifecycle: WalLifecycle,
  queue: Queue.Queue<WriterRequest, Cause.Done>
): Effect.Effect<void> => {
  if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause)
  lifecycle.fail(new IoError({ operation: "write", path: dir, cause: Cause.squash(cause) }))
  return Effect.logError(`tidal-wal: the writer failed; closed for writing: ${Cause.pretty(cause)}`).pipe(
    Effect.annotateLogs({ dir }),
    Effect.andThen(Queue.end(queue)),
    Effect.andThen(rejectQueued(lifecycle, queue))
  )
}

const rejectQueued = (lifecycle: WalLifecycle, queue: Queue.Queue<WriterRequest, Cause.Done>) =>
  Effect.flatMap(
    Queue.clear(queue).pipe(Effect.orElseSucceed((): ReadonlyArray<WriterRequest> => [])),
    (left) =>
      Effect.sync(() => {
        for (const request of left) reject(request, lifecycle.closedError())
      })
  )

/** The drain on close: every queued append is written and synced before the writer stops. */
const drain = (
  lifecycle: WalLifecycle,
  queue: Queue.Queue<WriterRequest, Cause.Done>,
  loop: Fiber.Fiber<void>,
  published: PubSub.PubSub<PublishedBatch>
): Effect.Effect<void> =>
  Effect.gen(function* () {
    lifecycle.beginShutdown()
    yield* Queue.end(queue)
    yield* Fiber.await(loop)
    // Only reachable if the writer died: whatever it left in the queue must not wait forever.
    yield* rejectQueued(lifecycle, queue)
    yield* PubSub.shutdown(published)
    lifecycle.closed()
  }).pipe(Effect.uninterruptible)
