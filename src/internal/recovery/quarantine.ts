/**
 * Copies bytes to `quarantine/` before anything is cut (SPEC §3: no mode deletes bytes without a
 * copy), then truncates and syncs — etcd's Repair, with the copy made durable first.
 */
import { Clock, Effect, type FileSystem, type Path } from "effect"
import type { IoError } from "../../WalError.ts"
import { io, syncDirectory, writeFileSynced } from "../fs/durable.ts"

export const QUARANTINE_DIR = "quarantine"

export interface Quarantine {
  /** Copies `bytes[fromOffset..]` of a segment to quarantine/, then truncates the segment there. Returns the copy's path. */
  readonly cutTail: (
    segmentPath: string,
    bytes: Uint8Array,
    fromOffset: number
  ) => Effect.Effect<string, IoError>
  /** Moves a whole segment into quarantine/. Returns its new path. */
  readonly moveWhole: (segmentPath: string) => Effect.Effect<string, IoError>
}

export const makeQuarantine = (fs: FileSystem.FileSystem, path: Path.Path, dir: string): Quarantine => {
  const quarantineDir = path.join(dir, QUARANTINE_DIR)
  const prepare = Effect.gen(function* () {
    yield* io("makeDirectory", quarantineDir)(fs.makeDirectory(quarantineDir, { recursive: true }))
    yield* syncDirectory(fs, dir)
    return yield* Clock.currentTimeNanos
  })
  const target = (segmentPath: string, suffix: string, nanos: bigint) =>
    path.join(quarantineDir, `${path.basename(segmentPath)}.${suffix}.${nanos}`)

  return {
    cutTail: (segmentPath, bytes, fromOffset) =>
      Effect.gen(function* () {
        const nanos = yield* prepare
        const copyPath = target(segmentPath, `from-${fromOffset}`, nanos)
        yield* writeFileSynced(fs, copyPath, bytes.subarray(fromOffset), "wx")
        yield* syncDirectory(fs, quarantineDir)
        if (fromOffset === 0) {
          // Nothing valid is left: remove the file rather than keep an empty segment whose
          // name may promise a sequence number the log does not continue with.
          yield* io("remove", segmentPath)(fs.remove(segmentPath))
        } else {
          yield* Effect.scoped(
            Effect.gen(function* () {
              const file = yield* io("open", segmentPath)(fs.open(segmentPath, { flag: "r+" }))
              yield* io("truncate", segmentPath)(file.truncate(fromOffset))
              yield* io("sync", segmentPath)(file.sync)
            })
          )
        }
        yield* syncDirectory(fs, dir)
        return copyPath
      }),
    moveWhole: (segmentPath) =>
      Effect.gen(function* () {
        const nanos = yield* prepare
        const movedPath = target(segmentPath, "whole", nanos)
        yield* io("rename", segmentPath)(fs.rename(segmentPath, movedPath))
        yield* syncDirectory(fs, quarantineDir)
        yield* syncDirectory(fs, dir)
        return movedPath
      })
  }
}
