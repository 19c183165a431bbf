/**
 * What the read-only commands (`inspect`, `verify`, `dump`) accept as a WAL directory: an existing
 * directory holding at least one entry named like a segment (`wal-<20 digits>.seg`), a
 * `checkpoint.meta`, or a `quarantine/` (recovery may have moved every segment there). Without
 * this check, a typo'd path or the wrong directory reads as an empty, healthy log ("ok: 0
 * segments"), which is the one answer a check must never give by accident. A WAL that was opened
 * but never written to leaves an empty directory; it holds nothing to check, and saying so is
 * the honest answer.
 */
import { Effect, FileSystem, Path } from "effect"
import { CHECKPOINT_FILE } from "../internal/checkpoint/checkpointStore.ts"
import { parseSegmentName } from "../internal/format/segmentName.ts"
import { QUARANTINE_DIR } from "../internal/recovery/quarantine.ts"
import { ProblemFound } from "./errors.ts"

export const requireWalDirectory = (
  command: string,
  dir: string
): Effect.Effect<void, ProblemFound, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const kind = yield* entryKind(command, fs, dir)
    if (kind !== "Directory") {
      return yield* new ProblemFound({
        message: `${command}: ${dir}: ${kind === undefined ? "no such directory" : "not a directory"}`
      })
    }
    const names = yield* fs
      .readDirectory(dir)
      .pipe(Effect.mapError((error) => new ProblemFound({ message: `${command}: ${dir}: ${error.message}` })))
    // By name only: whether those files are sound is for the scan to say, with file and offset.
    if (names.some((name) => name === CHECKPOINT_FILE || parseSegmentName(name) !== undefined)) return
    const quarantine = path.join(dir, QUARANTINE_DIR)
    if (names.includes(QUARANTINE_DIR) && (yield* entryKind(command, fs, quarantine)) === "Directory") return
    return yield* new ProblemFound({
      message: `${command}: ${dir} is not a WAL directory (no segment files, no ${CHECKPOINT_FILE}, no ${QUARANTINE_DIR}/)`
    })
  })

/**
 * The type of what `target` names, or undefined when nothing is there. Any other failure (no
 * permission, say) is reported as it is, not disguised as "no such directory".
 */
export const entryKind = (
  command: string,
  fs: FileSystem.FileSystem,
  target: string
): Effect.Effect<FileSystem.File.Type | undefined, ProblemFound> =>
  fs.stat(target).pipe(
    Effect.map((info): FileSystem.File.Type | undefined => info.type),
    Effect.catchReason(
      "PlatformError",
      "NotFound",
      () => Effect.succeed(undefined),
      (reason) => Effect.fail(new ProblemFound({ message: `${command}: ${target}: ${reason.message}` }))
    )
  )
