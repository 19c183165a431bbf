/**
 * Opening a WAL: decode the config, take the lock, recover, start the writer fiber, and register
 * `shutdown` as the scope's finalizer.
 *
 * The order of the finalizers is the point: `shutdown` is registered after `forkScoped(writer)`,
 * so on close it runs first — the queue is ended and drained, every queued append is written and
 * synced, the writer finishes — before the scope would interrupt the writer. If anything after
 * the lock fails, the lock is released at once, so the caller can retry in the same scope.
 */
import { type Cause, Clock, Deferred, Effect, Fiber, FileSystem, Path, PubSub, Queue } from "effect"
import type { ResolvedWalConfig, WalConfigInput } from "../../WalConfig.ts"
import { decodeWalConfig } from "../../WalConfig.ts"
import { ClosedError } from "../../WalError.ts"
import type { WalHandleShape } from "../../WalHandle.ts"
import { DedupWindow } from "../dedup/DedupWindow.ts"
import { acquireDirectoryLock } from "../fs/directoryLock.ts"
import { io } from "../fs/durable.ts"
import { makeWalMetrics } from "../metrics.ts"
import { type PublishedBatch, TAIL_BUFFER_BATCHES } from "../reader/liveTail.ts"
import type { ReplayedEvents } from "../recovery/ReplayedEvents.ts"
import { recover } from "../recovery/recover.ts"
import { makeSegmentAppender } from "../segment/SegmentAppender.ts"
import { makeBatchWriter } from "../writer/batchWriter.ts"
import { NOT_TIMED, reject, type WriterRequest } from "../writer/requests.ts"
import { runWriterLoop, type WriterState } from "../writer/writerLoop.ts"
import { makeHandle } from "./handleApi.ts"

export const openWal = (input: WalConfigInput) =>
  Effect.gen(function* () {
    const config = yield* decodeWalConfig(input)
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dir = path.resolve(config.dir)
    yield* io("makeDirectory", dir)(fs.makeDirectory(dir, { recursive: true }))
    const releaseLock = yield* acquireDirectoryLock(dir)
    return yield* startWal(fs, path, dir, config, releaseLock).pipe(
      Effect.onError(() => releaseLock),
      Effect.provide(DedupWindow.layer(config.dedupWindowNanos))
    )
  }).pipe(Effect.withSpan("tidal-wal.open", { attributes: { "wal.dir": String(input.dir) } }))

const startWal = Effect.fnUntraced(function* (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  dir: string,
  config: ResolvedWalConfig,
  releaseLock: Effect.Effect<void>
) {
  const dedup = yield* DedupWindow
  const metrics = yield* makeWalMetrics(dir)
  const nowNanos = yield* Clock.currentTimeNanos
  const recovered = yield* recover(fs, path, {
    dir,
    recoveryMode: config.recoveryMode,
    replay: config.replay,
    recentSinceNanos: nowNanos - config.dedupWindowNanos,
    onRecentBatch: dedup.seed
  }).pipe(Effect.withSpan("tidal-wal.recover", { attributes: { "wal.dir": dir } }))
  metrics.recovered(recovered.report.durationMillis, recovered.report.bytesScanned)
  const state: WriterState = {
    nextSeq: bigintMax(recovered.lastSeq, recovered.checkpoint) + 1n,
    lastDurableSeq: bigintMax(recovered.lastSeq, recovered.checkpoint),
    checkpoint: recovered.checkpoint,
    failure: undefined,
    shuttingDown: false
  }
  const appender = makeSegmentAppender(fs, path, dir, config.segmentMaxBytes, recovered.segments)
  metrics.segments(recovered.segments.length)
  const queue = yield* Queue.bounded<WriterRequest, Cause.Done>(config.queueCapacity)
  const closedError = () =>
    state.failure === undefined
      ? new ClosedError({ dir, reason: "ShutDown" })
      : new ClosedError({ dir, reason: "WriteFailed", cause: state.failure })
  const published = yield* PubSub.sliding<PublishedBatch>(TAIL_BUFFER_BATCHES)
  const tails = { subscribers: 0 }
  const batchWriter = makeBatchWriter({
    batchMaxEvents: config.batchMaxEvents,
    appender,
    dedup,
    reserveSeqs: (count) => {
      const firstSeq = state.nextSeq
      state.nextSeq += BigInt(count)
      return firstSeq
    },
    onDurable: (batch, eventsWritten, duplicates, syncMillis) => {
      metrics.batchDurable(eventsWritten, duplicates, syncMillis)
      if (eventsWritten === 0) return
      state.lastDurableSeq = batch.firstSeq + BigInt(eventsWritten) - 1n
      metrics.segments(appender.segmentCount())
      if (tails.subscribers > 0) {
        PubSub.publishUnsafe(published, { firstSeq: batch.firstSeq, records: batch.records.slice() })
      }
    },
    onCompleted: (request, nowMillis) => {
      if (request.startMillis !== NOT_TIMED) metrics.appendSettled(nowMillis - request.startMillis)
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
      closedError,
      onGroup: () => metrics.queueDepth(Queue.sizeUnsafe(queue))
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

  const handle: WalHandleShape = makeHandle({
    fs,
    path,
    dir,
    config,
    state,
    queue,
    appender,
    published,
    tails,
    closedError,
    shutdown,
    replayed: recovered.replayed,
    recovery: recovered.report
  })
  return [handle, recovered.replayed] as readonly [WalHandleShape, ReplayedEvents]
})

const bigintMax = (a: bigint, b: bigint): bigint => (a >= b ? a : b)
