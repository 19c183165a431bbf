/**
 * Opening a WAL: decode the config, take the lock, recover, start the writer fiber, and register
 * `shutdown` as the scope's finalizer.
 *
 * The order of the finalizers is the point: `shutdown` is registered after `forkScoped(writer)`,
 * so on close it runs first — the queue is ended and drained, every queued append is written and
 * synced, the writer finishes — before the scope would interrupt the writer. If anything after
 * the lock fails, the lock is released at once, so the caller can retry in the same scope.
 */
import { Cause, Clock, Deferred, Effect, Fiber, FileSystem, Path, PubSub, Queue } from "effect"
import type { ResolvedWalConfig, WalConfigInput } from "../../WalConfig.ts"
import { decodeWalConfig } from "../../WalConfig.ts"
import { ClosedError, IoError } from "../../WalError.ts"
import type { WalHandleShape } from "../../WalHandle.ts"
import { DedupWindow } from "../dedup/DedupWindow.ts"
import { U64_MAX } from "../format/layout.ts"
import { canonicalDirectory, DirectoryLocker, holdingLock } from "../fs/directoryLock.ts"
import { makeDirectoryDurable } from "../fs/durable.ts"
import { readOrCreateWalId } from "../fs/walIdentity.ts"
import { makeWalMetrics } from "../metrics.ts"
import { type PublishedBatch, TAIL_BUFFER_BATCHES } from "../reader/liveTail.ts"
import type { ReplayedEvents } from "../recovery/ReplayedEvents.ts"
import { recover } from "../recovery/recover.ts"
import { makeSegmentAppender } from "../segment/SegmentAppender.ts"
import { makeBatchWriter } from "../writer/batchWriter.ts"
import { NOT_TIMED, reject, type WriterRequest } from "../writer/requests.ts"
import { runWriterLoop, type WriterState } from "../writer/writerLoop.ts"
import { makeHandle } from "./handleApi.ts"
import { makeRetentionHolds } from "./retentionHolds.ts"

export const openWal = (input: WalConfigInput) =>
  Effect.gen(function* () {
    // The input is read only by the decode (once, whatever it is): the span learns the directory
    // from the decoded config, so `open(null)` or a throwing `dir` getter is an InvalidConfigError.
    const config = yield* decodeWalConfig(input)
    yield* Effect.annotateCurrentSpan("wal.dir", config.dir)
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const requestedDir = path.resolve(config.dir)
    yield* makeDirectoryDurable(fs, path, requestedDir)
    // The real path, used everywhere after this: one directory, one `dir`, whatever the spelling.
    const dir = yield* canonicalDirectory(fs, requestedDir)
    const locker = yield* DirectoryLocker
    // The lock is released by shutdown, at once if startWal fails, or with the caller's scope.
    return yield* holdingLock(locker.acquire(dir), (releaseLock) =>
      startWal(fs, path, dir, config, releaseLock).pipe(
        Effect.provide(DedupWindow.layer(config.dedupWindowNanos))
      )
    )
  }).pipe(Effect.withSpan("tidal-wal.open"))

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
  const walId = yield* readOrCreateWalId(fs, path, dir)
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
      // A sequence number past u64 would be written as another, smaller one: never give it.
      if (state.nextSeq - 1n > U64_MAX)
        throw new Error(`invariant: sequence number ${state.nextSeq - 1n} passes u64`)
      return firstSeq
    },
    seqsRemaining: () => U64_MAX + 1n - state.nextSeq,
    sequenceExhausted: () => new ClosedError({ dir, reason: "SequenceExhausted" }),
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
        return Effect.andThen(
          Effect.logError(
            `tidal-wal: closed for writing after a failed ${error.operation} of ${error.path}; reopen to recover`
          ).pipe(
            Effect.annotateLogs({ dir, file: error.path, operation: error.operation, error: error.message })
          ),
          Queue.end(queue)
        )
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
    }).pipe(
      // A defect in the writer (a bug, never bad input: events are captured and checked at the
      // call) closes the WAL like a failed write: every queued and later call fails, none hangs.
      Effect.catchCause((cause) =>
        Cause.hasInterruptsOnly(cause)
          ? Effect.failCause(cause)
          : Effect.suspend(() => {
              const error = new IoError({ operation: "write", path: dir, cause: Cause.squash(cause) })
              state.failure ??= error
              return Effect.logError(
                `tidal-wal: the writer failed; closed for writing: ${Cause.pretty(cause)}`
              ).pipe(
                Effect.annotateLogs({ dir }),
                Effect.andThen(Queue.end(queue)),
                Effect.andThen(Queue.clear(queue)),
                Effect.flatMap((left) =>
                  Effect.sync(() => {
                    for (const request of left) reject(request, closedError())
                  })
                )
              )
            })
      )
    )
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
    recovery: recovered.report,
    walId,
    retention: makeRetentionHolds()
  })
  return [handle, recovered.replayed] as readonly [WalHandleShape, ReplayedEvents]
})

const bigintMax = (a: bigint, b: bigint): bigint => (a >= b ? a : b)
