/**
 * Reads and writes `checkpoint.meta` (docs/FORMAT.md §4 and §9).
 *
 * Missing means checkpoint 0. A file that exists but fails its checks is corruption, never
 * silently 0: that would replay events the caller has already materialized.
 */
import { Effect, type FileSystem, type Path } from "effect"
import { CorruptionError, type IoError } from "../../WalError.ts"
import { decodeCheckpoint, encodeCheckpoint } from "../format/checkpointRecord.ts"
import { atomicReplace, readFileIfExists } from "../fs/durable.ts"

export const CHECKPOINT_FILE = "checkpoint.meta"

export interface StoredCheckpoint {
  readonly sequence: bigint
  readonly timestampNanos: bigint
}

export const readCheckpoint = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  dir: string
): Effect.Effect<StoredCheckpoint, IoError | CorruptionError> =>
  Effect.gen(function* () {
    const file = path.join(dir, CHECKPOINT_FILE)
    const bytes = yield* readFileIfExists(fs, file)
    if (bytes === undefined) return { sequence: 0n, timestampNanos: 0n }
    const decoded = decodeCheckpoint(bytes)
    if (decoded._tag === "Invalid") {
      return yield* new CorruptionError({
        file,
        offsetBytes: decoded.offsetBytes,
        reason: "BadCheckpoint",
        detail: decoded.detail
      })
    }
    return decoded.record
  })

export const writeCheckpoint = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  dir: string,
  checkpoint: StoredCheckpoint
): Effect.Effect<void, IoError> =>
  atomicReplace(fs, dir, path.join(dir, CHECKPOINT_FILE), encodeCheckpoint(checkpoint))
