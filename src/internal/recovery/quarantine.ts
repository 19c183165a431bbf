/**
 * Copies bytes to `quarantine/` before anything is cut (docs/FORMAT.md §7: no mode deletes bytes
 * without a copy), then truncates and syncs — etcd's Repair, with the copy made durable first.
 *
 * The copy is made chunk by chunk and kept sparse: stretches of zeros are not written, they are
 * left as holes (the copy's length is set at the end), so a huge tail of zeros — a segment
 * extended by `truncate`, a preallocated file — costs one chunk of memory and almost no disk,
 * while the copy still reads back as every byte that was cut.
 */
import { Clock, Effect, type FileSystem, type Path } from "effect"
import type { IoError } from "../../WalError.ts"
import { io, READ_CHUNK_BYTES, readFileChunk, syncDirectory } from "../fs/durable.ts"

export const QUARANTINE_DIR = "quarantine"

export interface Quarantine {
  /**
   * Copies a segment's bytes from `fromOffset` to its end to quarantine/, then truncates the
   * segment there (removes it when nothing is left). Returns the copy's path and its length.
   */
  readonly cutTail: (
    segmentPath: string,
    fromOffset: number
  ) => Effect.Effect<{ readonly copyPath: string; readonly bytesCut: number }, IoError>
  /** Moves a whole segment (of `sizeBytes`) into quarantine/. Returns its new path. */
  readonly moveWhole: (segmentPath: string, sizeBytes: number) => Effect.Effect<string, IoError>
}

/**
 * `scratch` is the buffer the copy reads through (one chunk; replaced if too small): the caller's
 * to share, as long as it holds nothing the caller still needs.
 */
export const makeQuarantine = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  dir: string,
  scratch: { buffer: Uint8Array } = { buffer: new Uint8Array(0) }
): Quarantine => {
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
    cutTail: (segmentPath, fromOffset) =>
      Effect.gen(function* () {
        const nanos = yield* prepare
        const copyPath = yield* target(segmentPath, `from-${fromOffset}`, nanos)
        const bytesCut = yield* copySparse(fs, segmentPath, fromOffset, copyPath, scratch)
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
        yield* Effect.logWarning(
          `tidal-wal: cut ${segmentPath} at byte ${fromOffset}: ${bytesCut} bytes copied to ${copyPath}`
        ).pipe(
          Effect.annotateLogs({ file: segmentPath, offsetBytes: fromOffset, bytes: bytesCut, copy: copyPath })
        )
        return { copyPath, bytesCut }
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

// internals

/** Zero stretches shorter than this are written, not skipped: a hole costs at least a block. */
const HOLE_GRANULE_BYTES = 64 * 1024

const ZEROS = new Uint8Array(HOLE_GRANULE_BYTES)

/**
 * Copies `source[fromOffset..]` to the new file `copyPath` chunk by chunk, writing only the
 * granules that are not all zeros, then sets the copy's length and syncs it. Returns the bytes
 * copied (the copy's length).
 */
const copySparse = (
  fs: FileSystem.FileSystem,
  source: string,
  fromOffset: number,
  copyPath: string,
  scratch: { buffer: Uint8Array }
): Effect.Effect<number, IoError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const copy = yield* io("open", copyPath)(fs.open(copyPath, { flag: "wx" }))
      let offset = fromOffset
      for (;;) {
        const chunk = yield* readFileChunk(fs, source, offset, READ_CHUNK_BYTES, scratch)
        for (const [start, end] of dataRuns(chunk.bytes)) {
          yield* io("write", copyPath)(copy.seek(BigInt(offset - fromOffset + start), "start"))
          yield* io("write", copyPath)(copy.writeAll(chunk.bytes.subarray(start, end)))
        }
        offset += chunk.bytes.byteLength
        if (chunk.reachesEndOfFile) break
      }
      const copiedBytes = offset - fromOffset
      // The holes left at the end become part of the file: its length is every byte cut.
      yield* io("truncate", copyPath)(copy.truncate(copiedBytes))
      yield* io("sync", copyPath)(copy.sync)
      return copiedBytes
    })
  )

/** The `[start, end)` stretches of `bytes` to write: runs of granules that are not all zeros. */
const dataRuns = (bytes: Uint8Array): Array<readonly [number, number]> => {
  const runs: Array<readonly [number, number]> = []
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let runStart = -1
  for (let at = 0; at < bytes.byteLength; at += HOLE_GRANULE_BYTES) {
    const end = Math.min(at + HOLE_GRANULE_BYTES, bytes.byteLength)
    const zeros = buffer.compare(ZEROS, 0, end - at, at, end) === 0
    if (!zeros && runStart < 0) runStart = at
    if (zeros && runStart >= 0) {
      runs.push([runStart, at])
      runStart = -1
    }
  }
  if (runStart >= 0) runs.push([runStart, bytes.byteLength])
  return runs
}
