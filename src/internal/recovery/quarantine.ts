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
  /** Moves a whole segment (of `sizeBytes`) into quarantine/. Returns its new path. */
  readonly moveWhole: (segmentPath: string, sizeBytes: number) => Effect.Effect<string, IoError>
}

export const makeQuarantine = (fs: FileSystem.FileSystem, path: Path.Path, dir: string): Quarantine => {
  const quarantineDir = path.join(dir, QUARANTINE_DIR)
  const prepare = Effect.gen(function* () {
    yield* io("makeDirectory", quarantineDir)(fs.makeDirectory(quarantineDir, { recursive: true }))
    yield* syncDirectory(fs, dir)
    return yield* Clock.currentTimeNanos
  })
  /**
   * A name no earlier copy has: the clock may repeat itself after a reboot (or a cut in the
   * middle of an earlier recovery left a copy of the same moment), and a copy is never replaced.
   */
  const target = (segmentPath: string, suffix: string, nanos: bigint) =>
    Effect.gen(function* () {
      const base = path.join(quarantineDir, `${path.basename(segmentPath)}.${suffix}.${nanos}`)
      for (let attempt = 0; ; attempt++) {
        const candidate = attempt === 0 ? base : `${base}.${attempt}`
        if (!(yield* io("stat", candidate)(fs.exists(candidate)))) return candidate
      }
    })

  return {
    cutTail: (segmentPath, bytes, fromOffset) =>
      Effect.gen(function* () {
        const nanos = yield* prepare
        const copyPath = yield* target(segmentPath, `from-${fromOffset}`, nanos)
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
        const bytesCut = bytes.byteLength - fromOffset
        yield* Effect.logWarning(
          `tidal-wal: cut ${segmentPath} at byte ${fromOffset}: ${bytesCut} bytes copied to ${copyPath}`
        ).pipe(
          Effect.annotateLogs({ file: segmentPath, offsetBytes: fromOffset, bytes: bytesCut, copy: copyPath })
        )
        return copyPath
      }),
    moveWhole: (segmentPath, sizeBytes) =>
      Effect.gen(function* () {
        const nanos = yield* prepare
        const movedPath = yield* target(segmentPath, "whole", nanos)
        yield* io("rename", segmentPath)(fs.rename(segmentPath, movedPath))
        yield* syncDirectory(fs, quarantineDir)
        yield* syncDirectory(fs, dir)
        yield* Effect.logWarning(
          `tidal-wal: moved ${segmentPath} whole (${sizeBytes} bytes, from byte 0) to ${movedPath}`
        ).pipe(Effect.annotateLogs({ file: segmentPath, offsetBytes: 0, bytes: sizeBytes, copy: movedPath }))
        return movedPath
      })
  }
}
