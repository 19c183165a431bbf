/**
 * The segment files as a service: the appender that extends the last segment and rotates to new
 * ones, built on the recovered segments, closed when the layer is released.
 *
 * This is the seam between the writer and the disk. The writer sees only `SegmentAppender`; a
 * test gives it an in-memory one whose syncs it completes or fails by hand, and the power-loss
 * simulation gives the real one a simulated `FileSystem`.
 */
import { Context, Effect, FileSystem, Layer, Path } from "effect"
import { makeSegmentAppender, type SegmentAppender } from "../segment/SegmentAppender.ts"
import { RecoveredLog } from "./RecoveredLog.ts"
import { WalDirectory } from "./WalDirectory.ts"

/** @internal */
export class SegmentStorage extends Context.Service<SegmentStorage, SegmentAppender>()(
  "tidal-wal/SegmentStorage"
) {
  static readonly layer = Layer.effect(
    SegmentStorage,
    Effect.gen(function* () {
      const { config, dir } = yield* WalDirectory
      const recovered = yield* RecoveredLog
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      return yield* Effect.acquireRelease(
        Effect.sync(() => makeSegmentAppender(fs, path, dir, config.segmentMaxBytes, recovered.segments)),
        (appender) => appender.close
      )
    })
  )
}
