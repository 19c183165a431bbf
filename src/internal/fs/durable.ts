/**
 * File-system steps with their durability made explicit, each failure mapped to `IoError`.
 *
 * A new name survives a crash only once its directory is synced; a replaced file is whole only
 * if it was synced before the rename. These helpers spell the steps out once (etcd's `cut()`,
 * tidwall's `atomicWrite` plus the directory sync it lacks).
 */
import { Effect, type FileSystem, type Path, type PlatformError, Scope } from "effect"
import { IoError, type IoOperation } from "../../WalError.ts"

/** Maps a platform failure to `IoError` naming the operation and the path. */
export const io =
  (operation: IoOperation, path: string) =>
  <A, R>(effect: Effect.Effect<A, PlatformError.PlatformError, R>): Effect.Effect<A, IoError, R> =>
    Effect.mapError(effect, (cause) => new IoError({ operation, path, cause }))

/** fsync of a directory, so that creates, renames and removals in it survive a crash. */
export const syncDirectory = (fs: FileSystem.FileSystem, dir: string): Effect.Effect<void, IoError> =>
  Effect.scoped(
    Effect.flatMap(io("open", dir)(fs.open(dir, { flag: "r" })), (handle) =>
      io("syncDirectory", dir)(handle.sync)
    )
  )

/**
 * Creates `dir` and any missing parents so that they survive a power cut: each new directory's
 * name lives in its parent, so each parent is synced after its child is made. The parent of `dir`
 * is synced even when nothing was created — a directory made by an earlier open that crashed
 * before its sync (a process kill keeps the page cache) is made durable here.
 */
export const makeDirectoryDurable = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  dir: string
): Effect.Effect<void, IoError> =>
  Effect.gen(function* () {
    const missing: Array<string> = []
    for (let at = dir; !(yield* io("stat", at)(fs.exists(at))); at = path.dirname(at)) {
      missing.unshift(at)
      if (path.dirname(at) === at) break
    }
    yield* io("makeDirectory", dir)(fs.makeDirectory(dir, { recursive: true }))
    const parents = new Set([...missing, dir].map((at) => path.dirname(at)))
    for (const parent of parents) yield* syncDirectory(fs, parent)
  })

/** Writes `bytes` to a new file and syncs it; the caller syncs the directory. */
export const writeFileSynced = (
  fs: FileSystem.FileSystem,
  path: string,
  bytes: Uint8Array,
  flag: "w" | "wx" = "w"
): Effect.Effect<void, IoError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const file = yield* io("open", path)(fs.open(path, { flag }))
      yield* io("write", path)(file.writeAll(bytes))
      yield* io("sync", path)(file.sync)
    })
  )

/** tmp → sync → rename over `path` → sync the directory (docs/FORMAT.md §2–§4 `checkpoint.meta`). */
export const atomicReplace = (
  fs: FileSystem.FileSystem,
  dir: string,
  path: string,
  bytes: Uint8Array
): Effect.Effect<void, IoError> =>
  Effect.gen(function* () {
    const tmp = `${path}.tmp`
    yield* writeFileSynced(fs, tmp, bytes)
    yield* io("rename", path)(fs.rename(tmp, path))
    yield* syncDirectory(fs, dir)
  })

/** Opens a file in a scope of its own, so it can be closed before the WAL's scope ends. */
export const openOwned = (
  fs: FileSystem.FileSystem,
  path: string,
  flag: FileSystem.OpenFlag,
  scope: Scope.Scope
): Effect.Effect<FileSystem.File, IoError> =>
  io("open", path)(fs.open(path, { flag })).pipe(Scope.provide(scope))

/** Reads a whole file, or `undefined` if it does not exist. */
export const readFileIfExists = (
  fs: FileSystem.FileSystem,
  path: string
): Effect.Effect<Uint8Array | undefined, IoError> =>
  fs.readFile(path).pipe(
    Effect.catchReason("PlatformError", "NotFound", () => Effect.succeed(undefined)),
    io("read", path)
  )

/**
 * How much of a segment is read at once (docs/FORMAT.md, "Memory during recovery and reads").
 * A segment of the default `segmentMaxBytes` (16 MiB) is one read; a larger file, even a huge
 * sparse one, costs this much memory at a time instead of its size.
 */
export const READ_CHUNK_BYTES = 16 * 1024 * 1024

/** Bytes of a file from `offsetBytes`, and the file's size when they were read. */
export interface FileChunk {
  readonly bytes: Uint8Array
  readonly offsetBytes: number
  readonly fileSizeBytes: number
  /** Whether `bytes` run to the end of the file: nothing of it lies beyond them. */
  readonly reachesEndOfFile: boolean
}

/**
 * Reads up to `maxBytes` of a file from `offsetBytes`, with as few reads as the kernel allows
 * (`FileSystem.readFile` reads in small pieces, a thread-pool round trip each).
 *
 * With `reuse`, the bytes land in that buffer when it is large enough (the chunk is then a view
 * of it, valid until the next read into it), else in a new one that replaces it: a reader walking
 * chunk after chunk holds one chunk's worth of memory instead of leaving a trail for the garbage
 * collector.
 */
export const readFileChunk = (
  fs: FileSystem.FileSystem,
  path: string,
  offsetBytes: number,
  maxBytes: number,
  reuse?: { buffer: Uint8Array }
): Effect.Effect<FileChunk, IoError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const file = yield* io("open", path)(fs.open(path, { flag: "r" }))
      const fileSizeBytes = Number((yield* io("stat", path)(file.stat)).size)
      const wanted = Math.max(0, Math.min(maxBytes, fileSizeBytes - offsetBytes))
      if (reuse !== undefined && reuse.buffer.byteLength < wanted) reuse.buffer = new Uint8Array(wanted)
      const bytes = reuse === undefined ? new Uint8Array(wanted) : reuse.buffer.subarray(0, wanted)
      let filled = 0
      while (filled < wanted) {
        const position = BigInt(offsetBytes + filled)
        const read = yield* io("read", path)(file.read(bytes.subarray(filled), { position }))
        // The file shrank while it was read: it ends here.
        if (read === 0)
          return { bytes: bytes.subarray(0, filled), offsetBytes, fileSizeBytes, reachesEndOfFile: true }
        filled += read
      }
      return { bytes, offsetBytes, fileSizeBytes, reachesEndOfFile: offsetBytes + wanted >= fileSizeBytes }
    })
  )

/** fsync of an existing file: its bytes, written by whichever process, become durable. */
export const syncFile = (fs: FileSystem.FileSystem, path: string): Effect.Effect<void, IoError> =>
  Effect.scoped(
    Effect.flatMap(io("open", path)(fs.open(path, { flag: "r+" })), (handle) => io("sync", path)(handle.sync))
  )
