/**
 * Checkpoints as a service: the current checkpoint (read by recovery at open) and its atomic
 * replacement (`checkpoint.meta`: temp file, sync, rename, directory sync).
 *
 * The checks of `checkpoint(seq)` — not beyond what is durable, not below the current one — are
 * made by the writer's command, which runs in queue order; this service only stores.
 */
import { Clock, Context, Effect, FileSystem, Layer, Path } from "effect"
import type { IoError } from "../../WalError.ts"
import { writeCheckpoint } from "../checkpoint/checkpointStore.ts"
import { RecoveredLog } from "./RecoveredLog.ts"
import { WalDirectory } from "./WalDirectory.ts"

export interface CheckpointsShape {
  /** The checkpoint: every event up to it is materialized; replay after reopen starts after it. */
  readonly current: () => bigint
  /** Makes `seq` the checkpoint, durably, before it succeeds. */
  readonly write: (seq: bigint) => Effect.Effect<void, IoError>
}

/** @internal */
export class Checkpoints extends Context.Service<Checkpoints, CheckpointsShape>()("tidal-wal/Checkpoints") {
  static readonly layer = Layer.effect(
    Checkpoints,
    Effect.gen(function* () {
      const { dir } = yield* WalDirectory
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      let checkpoint = (yield* RecoveredLog).checkpoint
      return {
        current: () => checkpoint,
        write: (seq) =>
          Effect.flatMap(Clock.currentTimeNanos, (timestampNanos) =>
            writeCheckpoint(fs, path, dir, { sequence: seq, timestampNanos })
          ).pipe(
            Effect.andThen(
              Effect.sync(() => {
                checkpoint = seq
              })
            )
          )
      }
    })
  )
}
