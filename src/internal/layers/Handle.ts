/**
 * The handle as a service: the methods of `WalHandleShape` over the services below it.
 *
 * `WalClose` is how the handle's `shutdown` closes the whole graph: `openWal` builds the graph in
 * a scope of its own and provides closing that scope, so an explicit `shutdown` releases
 * everything — drain, files, lock — in the same reverse order as closing the caller's scope.
 */
import { Context, Effect, FileSystem, Layer, Path } from "effect"
import { DedupWindow } from "../dedup/DedupWindow.ts"
import { makeHandle } from "../wal/handleApi.ts"
import { makeRetentionHolds } from "../wal/retentionHolds.ts"
import type { WalHandleShape } from "../wal/WalHandleShape.ts"
import { Checkpoints } from "./Checkpoints.ts"
import { Lifecycle } from "./Lifecycle.ts"
import { RecoveredLog } from "./RecoveredLog.ts"
import { SegmentStorage } from "./SegmentStorage.ts"
import { WalDirectory } from "./WalDirectory.ts"
import { Writer } from "./Writer.ts"

/** Closes the scope the WAL's graph was built in; idempotent. @internal */
export class WalClose extends Context.Service<WalClose, Effect.Effect<void>>()("tidal-wal/WalClose") {}

/** The open WAL's handle, inside the graph. @internal */
export class OpenedWal extends Context.Service<OpenedWal, WalHandleShape>()("tidal-wal/OpenedWal") {
  static readonly layer = Layer.effect(
    OpenedWal,
    Effect.gen(function* () {
      const { config, dir, walId } = yield* WalDirectory
      // Dedup is used by the writer only; required here so a graph without it does not build.
      yield* DedupWindow
      const writer = yield* Writer
      return makeHandle({
        fs: yield* FileSystem.FileSystem,
        path: yield* Path.Path,
        dir,
        walId,
        config,
        lifecycle: yield* Lifecycle,
        writer,
        appender: yield* SegmentStorage,
        checkpoints: yield* Checkpoints,
        retention: makeRetentionHolds(),
        recovered: yield* RecoveredLog,
        shutdown: yield* WalClose,
        linkCallerSpans: writer.spansExported
      })
    })
  )
}
