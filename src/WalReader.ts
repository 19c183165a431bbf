/**
 * Read-only access to a WAL directory, without the lock: a stream of events, an inspection of
 * the segments, checkpoint and lock, and a full verification. Used by the command line; safe to
 * run beside a live writer (a batch being written at the tail reads as the end of the log).
 *
 * @since 0.1.0
 */
import { Effect, FileSystem, Path, Stream } from "effect"
import { checksumReady } from "./internal/format/checksum.ts"
import { type DirectoryScan, scanDirectory } from "./internal/reader/directoryScan.ts"
import { type ReadError, type ReadRange, readLog } from "./internal/reader/logReader.ts"
import { describeThrown, formatValue } from "./internal/schemaIssue.ts"
import { checkSequenceNumber } from "./internal/writer/commands.ts"
import type { ReplayedEvent } from "./SignalEvent.ts"
import { decodeWalConfig } from "./WalConfig.ts"
import { type CheckpointError, InvalidConfigError, type IoError } from "./WalError.ts"

export type {
  CheckpointStatus,
  DirectoryProblem,
  DirectoryScan,
  ScannedSegment
} from "./internal/reader/directoryScan.ts"
export type { ReadError } from "./internal/reader/logReader.ts"

/** Which events `read` streams; both bounds inclusive, both u64 bigints. */
export interface ReadOptions {
  readonly fromSeq?: bigint | undefined
  readonly toSeq?: bigint | undefined
}

/**
 * The events of the WAL in `dir`, in order. Arguments are checked before any file is touched: a
 * bad `dir` or `options` fails with `InvalidConfigError`, a `fromSeq`/`toSeq` that is not a u64
 * bigint with `CheckpointError` ("InvalidSequence") — never a defect, whatever is passed.
 *
 * @category reading
 */
export const read = (
  dir: string,
  options: ReadOptions = {}
): Stream.Stream<
  ReplayedEvent,
  ReadError | InvalidConfigError | CheckpointError,
  FileSystem.FileSystem | Path.Path
> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const checkedDir = yield* checkDir(dir)
      // The WASM hasher, ready before the first batch is checked (until then hashing runs in JS).
      yield* checksumReady
      const range = yield* readRange(options)
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      return readLog(fs, path, path.resolve(checkedDir), range)
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
): Effect.Effect<DirectoryScan, IoError | InvalidConfigError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const checkedDir = yield* checkDir(dir)
    // The WASM hasher, ready before the first batch is checked (until then hashing runs in JS).
    yield* checksumReady
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    return yield* scanDirectory(fs, path, path.resolve(checkedDir), onSegment)
  })

// internals

/** The same rule as `WalConfig.dir`, so a reader accepts exactly the directories open does. */
const checkDir = (dir: unknown): Effect.Effect<string, InvalidConfigError> =>
  Effect.map(decodeWalConfig({ dir }), (config) => config.dir)

/** Reads `fromSeq` and `toSeq` once each and checks them; `options` may come from plain JS. */
const readRange = (options: unknown): Effect.Effect<ReadRange, InvalidConfigError | CheckpointError> =>
  Effect.suspend((): Effect.Effect<ReadRange, InvalidConfigError | CheckpointError> => {
    if (options === undefined) return Effect.succeed({ fromSeq: 1n, toSeq: undefined })
    if (typeof options !== "object" || options === null) {
      return Effect.fail(
        new InvalidConfigError({
          field: "options",
          value: formatValue(options),
          detail: "expected { fromSeq?, toSeq? }"
        })
      )
    }
    const record = options as Record<string, unknown>
    const fromSeq = readOption(record, "fromSeq")
    if (fromSeq instanceof InvalidConfigError) return Effect.fail(fromSeq)
    const toSeq = readOption(record, "toSeq")
    if (toSeq instanceof InvalidConfigError) return Effect.fail(toSeq)
    return Effect.all({
      fromSeq: fromSeq === undefined ? Effect.succeed(1n) : checkSequenceNumber(fromSeq),
      toSeq: toSeq === undefined ? Effect.succeed(undefined) : checkSequenceNumber(toSeq)
    })
  })

const readOption = (record: Record<string, unknown>, key: "fromSeq" | "toSeq"): unknown => {
  try {
    return record[key]
  } catch (cause) {
    const detail = `reading it threw: ${describeThrown(cause)}`
    return new InvalidConfigError({ field: `options.${key}`, value: "(unreadable)", detail })
  }
}
