/**
 * The WAL service (SPEC §4 "WalHandle"): open a directory, append signal events durably, replay
 * them after a restart, checkpoint and truncate.
 *
 * `WalHandle.open(config)` is scoped: it takes the directory lock, recovers, starts the single
 * writer fiber, and registers `shutdown` as the scope's finalizer — after forking the writer, so
 * that on close the queue is drained and synced before the writer is interrupted. Every append
 * completes only after the batch holding it is synced.
 *
 * @since 0.1.0
 */
import {
  type Cause,
  Clock,
  Context,
  Deferred,
  Effect,
  Fiber,
  FileSystem,
  Layer,
  Path,
  PubSub,
  Queue,
  type Scope,
  Stream
} from "effect"
import { DedupWindow } from "./internal/dedup/DedupWindow.ts"
import { acquireDirectoryLock } from "./internal/fs/directoryLock.ts"
import { io } from "./internal/fs/durable.ts"
import { liveTail, type PublishedBatch, TAIL_BUFFER_BATCHES } from "./internal/reader/liveTail.ts"
import { type ReadError, readLog } from "./internal/reader/logReader.ts"
import type { RecoveryReport } from "./internal/recovery/RecoveryReport.ts"
import type { ReplayedEvents } from "./internal/recovery/ReplayedEvents.ts"
import { recover, type SegmentInfo } from "./internal/recovery/recover.ts"
import { makeSegmentAppender } from "./internal/segment/SegmentAppender.ts"
import { makeBatchWriter } from "./internal/writer/batchWriter.ts"
import { checkpointBody, checkSequenceNumber, makeCommand, truncateBody } from "./internal/writer/commands.ts"
import {
  type AppendMany,
  appendMany,
  appendOne,
  reject,
  type WriterRequest
} from "./internal/writer/requests.ts"
import { runWriterLoop, type WriterState } from "./internal/writer/writerLoop.ts"
import { invalidEventError, isSignalEvent, type ReplayedEvent, type SignalEvent } from "./SignalEvent.ts"
import { decodeWalConfig, type WalConfigInput } from "./WalConfig.ts"
import {
  type CheckpointError,
  ClosedError,
  type CorruptionError,
  type InvalidConfigError,
  InvalidEventError,
  type IoError,
  type LockedError,
  type UnsupportedVersionError
} from "./WalError.ts"

/** @category models */
export interface WalHandleShape {
  /** Appends one event; succeeds with its sequence number once durable, or `0n` for a duplicate. */
  readonly append: (event: SignalEvent) => Effect.Effect<bigint, InvalidEventError | ClosedError | IoError>
  /**
   * Appends many events; succeeds with their sequence numbers (`0n` for duplicates) once all are
   * durable. Every event is validated before any is queued. The call is not atomic: a failure
   * part-way may leave its earlier events durable.
   */
  readonly appendAll: (
    events: Iterable<SignalEvent>
  ) => Effect.Effect<ReadonlyArray<bigint>, InvalidEventError | ClosedError | IoError>
  /** Records that everything up to `seq` is materialized; replay after reopen starts after it. */
  readonly checkpoint: (seq: bigint) => Effect.Effect<void, CheckpointError | ClosedError | IoError>
  /** Deletes every segment whose last sequence number is below `seq`; succeeds with the count. */
  readonly truncateBefore: (seq: bigint) => Effect.Effect<number, CheckpointError | ClosedError | IoError>
  /** Drains and syncs every queued append, closes the files, releases the lock. Idempotent. */
  readonly shutdown: Effect.Effect<void>
  readonly listSegments: Effect.Effect<ReadonlyArray<SegmentInfo>>
  /**
   * The durable events from `fromSeq` to `toSeq` (inclusive; by default the last durable event at
   * the time of the call), read from disk a segment at a time. If `fromSeq` was truncated away,
   * the stream starts at the first event still kept.
   */
  readonly read: (
    fromSeq: bigint,
    toSeq?: bigint
  ) => Stream.Stream<ReplayedEvent, ReadError | CheckpointError>
  /** `read(fromSeq)`, then every event as its batch becomes durable; ends when the WAL shuts down. */
  readonly tail: (fromSeq: bigint) => Stream.Stream<ReplayedEvent, ReadError | CheckpointError>
  /** The sequence number the next written event will get. */
  readonly nextSeq: Effect.Effect<bigint>
  /** The events replayed at open: every event with `seq > checkpoint`. */
  readonly replayed: ReplayedEvents
  readonly recovery: RecoveryReport
  readonly dir: string
}

/** Every way `open` can fail. @category errors */
export type OpenError = InvalidConfigError | IoError | CorruptionError | UnsupportedVersionError | LockedError

/** @category services */
export class WalHandle extends Context.Service<WalHandle, WalHandleShape>()("tidal-wal/WalHandle") {
  /** Opens the WAL in the current scope; closing the scope shuts it down. */
  static readonly open = (
    config: WalConfigInput
  ): Effect.Effect<
    readonly [WalHandleShape, ReplayedEvents],
    OpenError,
    FileSystem.FileSystem | Path.Path | Scope.Scope
  > => openWal(config)

  /** A layer providing `WalHandle`; releasing the layer shuts the WAL down. */
  static readonly layer = (
    config: WalConfigInput
  ): Layer.Layer<WalHandle, OpenError, FileSystem.FileSystem | Path.Path> =>
    Layer.effect(
      WalHandle,
      Effect.map(openWal(config), ([handle]) => handle)
    )
}

// internals

const openWal = Effect.fnUntraced(function* (input: WalConfigInput) {
  const config = yield* decodeWalConfig(input)
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const dir = path.resolve(config.dir)
  yield* io("makeDirectory", dir)(fs.makeDirectory(dir, { recursive: true }))
  const releaseLock = yield* acquireDirectoryLock(dir)
  return yield* startWal(fs, path, dir, config, releaseLock).pipe(Effect.onError(() => releaseLock))
})

const startWal = Effect.fnUntraced(
  function* (
    fs: FileSystem.FileSystem,
    path: Path.Path,
    dir: string,
    config: Effect.Success<ReturnType<typeof decodeWalConfig>>,
    releaseLock: Effect.Effect<void>
  ) {
    const dedup = yield* DedupWindow
    const nowNanos = yield* Clock.currentTimeNanos
    const recovered = yield* recover(fs, path, {
      dir,
      recoveryMode: config.recoveryMode,
      replay: config.replay,
      recentSinceNanos: nowNanos - config.dedupWindowNanos,
      onRecentBatch: dedup.seed
    })
    const state: WriterState = {
      nextSeq: bigintMax(recovered.lastSeq, recovered.checkpoint) + 1n,
      lastDurableSeq: bigintMax(recovered.lastSeq, recovered.checkpoint),
      checkpoint: recovered.checkpoint,
      failure: undefined,
      shuttingDown: false
    }
    const appender = makeSegmentAppender(fs, path, dir, config.segmentMaxBytes, recovered.segments)
    const queue = yield* Queue.bounded<WriterRequest, Cause.Done>(config.queueCapacity)
    const closedError = () =>
      state.failure === undefined
        ? new ClosedError({ dir, reason: "ShutDown" })
        : new ClosedError({ dir, reason: "WriteFailed", cause: state.failure })
    const published = yield* PubSub.sliding<PublishedBatch>(TAIL_BUFFER_BATCHES)
    let tailSubscribers = 0
    const batchWriter = makeBatchWriter({
      batchMaxEvents: config.batchMaxEvents,
      appender,
      dedup,
      reserveSeqs: (count) => {
        const firstSeq = state.nextSeq
        state.nextSeq += BigInt(count)
        return firstSeq
      },
      onDurable: (batch, eventsWritten) => {
        state.lastDurableSeq = batch.firstSeq + BigInt(eventsWritten) - 1n
        if (tailSubscribers > 0) {
          PubSub.publishUnsafe(published, { firstSeq: batch.firstSeq, records: batch.records.slice() })
        }
      },
      closedError,
      onIoFailure: (error) =>
        Effect.suspend(() => {
          state.failure ??= error
          return Queue.end(queue)
        })
    })
    const writer = yield* Effect.forkScoped(
      runWriterLoop({
        queue,
        batchWriter,
        batchMaxEvents: config.batchMaxEvents,
        batchMaxWaitMillis: config.batchMaxWaitMillis,
        groupCommit: config.groupCommit,
        state,
        closedError
      })
    )

    let shutdownDone: Deferred.Deferred<void> | undefined
    const shutdown: Effect.Effect<void> = Effect.suspend(() => {
      if (shutdownDone !== undefined) return Deferred.await(shutdownDone)
      const done = Deferred.makeUnsafe<void>()
      shutdownDone = done
      state.shuttingDown = true
      return Effect.gen(function* () {
        yield* Queue.end(queue)
        yield* Fiber.await(writer)
        // Only reachable if the writer died: whatever it left in the queue must not wait forever.
        for (const request of yield* Queue.clear(queue).pipe(Effect.orElseSucceed(() => []))) {
          reject(request, closedError())
        }
        yield* PubSub.shutdown(published)
        yield* appender.close
        yield* releaseLock
      }).pipe(Effect.ensuring(Deferred.succeed(done, undefined)), Effect.uninterruptible)
    })
    // Registered after forkScoped, so it runs before the writer fiber is interrupted.
    yield* Effect.addFinalizer(() => shutdown)

    const submit = <A, E>(
      request: WriterRequest,
      await_: Effect.Effect<A, E>
    ): Effect.Effect<A, E | ClosedError> =>
      // The common case, room in the queue, skips the suspending offer: one Effect less per append.
      Queue.offerUnsafe(queue, request)
        ? await_
        : Effect.flatMap(
            Queue.offer(queue, request),
            (accepted): Effect.Effect<A, E | ClosedError> => (accepted ? await_ : Effect.fail(closedError()))
          )

    const commandContext = { fs, path, dir, state, appender }
    const runCommand = <A>(body: Effect.Effect<A, CheckpointError | IoError>) =>
      Effect.suspend(() => {
        if (state.shuttingDown || state.failure !== undefined) return Effect.fail(closedError())
        const { command, done } = makeCommand(body)
        return submit(command, Deferred.await(done))
      })

    const handle: WalHandleShape = {
      dir,
      replayed: recovered.replayed,
      recovery: recovered.report,
      append: (event) =>
        Effect.suspend((): Effect.Effect<bigint, InvalidEventError | ClosedError | IoError> => {
          if (!isSignalEvent(event)) return Effect.fail(invalidEventError(event))
          if (state.shuttingDown || state.failure !== undefined) return Effect.fail(closedError())
          const request = appendOne(event)
          return submit(request, Deferred.await(request.done))
        }),
      appendAll: (events) =>
        Effect.suspend(
          (): Effect.Effect<ReadonlyArray<bigint>, InvalidEventError | ClosedError | IoError> => {
            const list = Array.from(events)
            for (let i = 0; i < list.length; i++) {
              if (!isSignalEvent(list[i])) {
                const error = invalidEventError(list[i])
                return Effect.fail(new InvalidEventError({ ...error, field: `events[${i}].${error.field}` }))
              }
            }
            if (state.shuttingDown || state.failure !== undefined) return Effect.fail(closedError())
            const requests: Array<AppendMany> = []
            for (let start = 0; start < list.length; start += config.batchMaxEvents) {
              requests.push(appendMany(list.slice(start, start + config.batchMaxEvents)))
            }
            return Effect.forEach(requests, (request) => submit(request, Effect.void), {
              discard: true
            }).pipe(
              Effect.andThen(Effect.forEach(requests, (request) => Deferred.await(request.done))),
              Effect.map((parts) => parts.flat())
            )
          }
        ),
      checkpoint: (seq) =>
        Effect.flatMap(checkSequenceNumber(seq), (s) => runCommand(checkpointBody(commandContext, s))),
      truncateBefore: (seq) =>
        Effect.flatMap(checkSequenceNumber(seq), (s) => runCommand(truncateBody(commandContext, s))),
      shutdown,
      listSegments: Effect.sync(() => appender.segments()),
      nextSeq: Effect.sync(() => state.nextSeq),
      read: (fromSeq, toSeq) =>
        Stream.unwrap(
          Effect.map(checkSequenceNumber(fromSeq), (from) => {
            const durable = state.lastDurableSeq
            const to = toSeq === undefined || toSeq > durable ? durable : toSeq
            return readLog(fs, path, dir, { fromSeq: from, toSeq: to })
          })
        ),
      tail: (fromSeq) =>
        Stream.unwrap(
          Effect.map(checkSequenceNumber(fromSeq), (from) =>
            liveTail(
              {
                published,
                lastDurableSeq: () => state.lastDurableSeq,
                read: (f, t) => readLog(fs, path, dir, { fromSeq: f, toSeq: t }),
                subscribed: (delta) => {
                  tailSubscribers += delta
                }
              },
              from
            )
          )
        )
    }
    return [handle, recovered.replayed] as const
  },
  (effect, _fs, _path, _dir, config) => Effect.provide(effect, DedupWindow.layer(config.dedupWindowNanos))
)

const bigintMax = (a: bigint, b: bigint): bigint => (a >= b ? a : b)
