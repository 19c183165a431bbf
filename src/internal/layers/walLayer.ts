/**
 * The WAL as a graph of Layers, built in dependency order and released in reverse:
 *
 *   WalDirectory (config, lock, wal-id)
 *     └─ Metrics
 *         └─ RecoveredLog (recovery)
 *             ├─ Lifecycle (phase, sequence numbers)
 *             ├─ Checkpoints (checkpoint.meta)
 *             ├─ DedupWindow (seeded from the recovered log)
 *             └─ SegmentStorage (the appender)
 *                 └─ Writer (queue, fiber, batches in flight, drain on close)
 *                     └─ OpenedWal (the handle)
 *
 * `openWal` builds it in a scope of its own under the caller's, so that `shutdown` can close it
 * early and a failure part-way releases what was acquired (the lock first of all) at once.
 */
import { Context, Deferred, Effect, Exit, Layer, Scope } from "effect"
import type { WalConfigInput } from "../../WalConfig.ts"
import type { ReplayedEvents } from "../recovery/ReplayedEvents.ts"
import type { WalHandleShape } from "../wal/WalHandleShape.ts"
import { Checkpoints } from "./Checkpoints.ts"
import { DedupLayer } from "./Dedup.ts"
import { OpenedWal, WalClose } from "./Handle.ts"
import { Lifecycle } from "./Lifecycle.ts"
import { Metrics } from "./Metrics.ts"
import { RecoveredLog } from "./RecoveredLog.ts"
import { SegmentStorage } from "./SegmentStorage.ts"
import { WalDirectory } from "./WalDirectory.ts"
import { Writer } from "./Writer.ts"

/** The whole graph for `config`; `WalClose` must be provided. */
export const walGraph = (config: WalConfigInput) =>
  OpenedWal.layer.pipe(
    Layer.provideMerge(Writer.layer),
    Layer.provideMerge(Layer.mergeAll(Lifecycle.layer, Checkpoints.layer, DedupLayer, SegmentStorage.layer)),
    Layer.provideMerge(RecoveredLog.layer),
    Layer.provideMerge(Metrics.layer),
    Layer.provideMerge(WalDirectory.layer(config))
  )

/** Opens the WAL in the current scope; `shutdown` (or closing the scope) releases it. */
export const openWal = (config: WalConfigInput) =>
  Effect.uninterruptibleMask((restore) =>
    Effect.gen(function* () {
      const scope = yield* Scope.fork(yield* Effect.scope)
      const close = closeOnce(scope)
      // The caller's scope closing must wait for a shutdown already under way: closing the child
      // first detaches it, and the parent's close would not wait for the drain otherwise.
      yield* Effect.addFinalizer(() => close)
      const context = yield* restore(
        Layer.buildWithScope(walGraph(config).pipe(Layer.provide(Layer.succeed(WalClose, close))), scope)
      ).pipe(Effect.onExit((exit) => (exit._tag === "Failure" ? Scope.close(scope, exit) : Effect.void)))
      const handle = Context.get(context, OpenedWal)
      return [handle, handle.replayed] as readonly [WalHandleShape, ReplayedEvents]
    })
  ).pipe(Effect.withSpan("tidal-wal.open"))

/** Closes `scope` once; a second call, concurrent or later, waits for the first to finish. */
const closeOnce = (scope: Scope.Closeable): Effect.Effect<void> => {
  let done: Deferred.Deferred<void> | undefined
  return Effect.suspend(() => {
    if (done !== undefined) return Deferred.await(done)
    const closing = Deferred.makeUnsafe<void>()
    done = closing
    return Scope.close(scope, Exit.void).pipe(
      Effect.ensuring(Deferred.succeed(closing, undefined)),
      Effect.uninterruptible
    )
  })
}
