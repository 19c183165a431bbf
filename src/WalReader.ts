/**
 * Read-only access to a WAL directory, without the lock: a stream of events, an inspection of
 * the segments, checkpoint and lock, and a full verification. Used by the command line; safe to
 * run beside a live writer (a batch being written at the tail reads as the end of the log).
 *
 * @since 0.1.0
 */
import { Effect, FileSystem, Path, Stream } from "effect"
import { type DirectoryScan, scanDirectory } from "./internal/reader/directoryScan.ts"
import { type ReadError, readLog } from "./internal/reader/logReader.ts"
import type { ReplayedEvent } from "./SignalEvent.ts"
import type { IoError } from "./WalError.ts"

export type {
  CheckpointStatus,
  DirectoryProblem,
  DirectoryScan,
  ScannedSegment
} from "./internal/reader/directoryScan.ts"
export type { ReadError } from "./internal/reader/logReader.ts"

/** @category reading */
export const read = (
  dir: string,
  options: { readonly fromSeq?: bigint | undefined; readonly toSeq?: bigint | undefined } = {}
): Stream.Stream<ReplayedEvent, ReadError, FileSystem.FileSystem | Path.Path> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      return readLog(fs, path, path.resolve(dir), { fromSeq: options.fromSeq ?? 1n, toSeq: options.toSeq })
    })
  )

/**
 * Checks every segment and `checkpoint.meta` and reports the first problem, if any; a torn tail
 * counts as a problem here (open would repair it). Changes nothing.
 *
 * @category inspection
 */
export const scan = (
  dir: string,
  onSegment?: (index: number, total: number, name: string) => Effect.Effect<void>
): Effect.Effect<DirectoryScan, IoError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    return yield* scanDirectory(fs, path, path.resolve(dir), onSegment)
  })
