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

/** tmp → sync → rename over `path` → sync the directory (SPEC §2 `checkpoint.meta`). */
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
 * Reads a whole file with as few reads as the kernel allows. `FileSystem.readFile` reads in
 * small chunks, a thread-pool round trip each; a segment is read in one or two here.
 *
 * With `reuse`, the bytes land in that buffer when it is large enough (the result is then a view
 * of it, valid until the next read into it): a reader walking segment after segment holds one
 * segment's worth of memory instead of leaving a trail for the garbage collector.
 */
export const readWholeFile = (
  fs: FileSystem.FileSystem,
  path: string,
  reuse?: { buffer: Uint8Array }
): Effect.Effect<Uint8Array, IoError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const file = yield* io("open", path)(fs.open(path, { flag: "r" }))
      const sizeBytes = Number((yield* io("stat", path)(file.stat)).size)
      if (reuse !== undefined && reuse.buffer.byteLength < sizeBytes) reuse.buffer = new Uint8Array(sizeBytes)
      const bytes = reuse === undefined ? new Uint8Array(sizeBytes) : reuse.buffer.subarray(0, sizeBytes)
      let filled = 0
      while (filled < sizeBytes) {
        const read = yield* io("read", path)(file.read(bytes.subarray(filled), { position: BigInt(filled) }))
        if (read === 0) return bytes.subarray(0, filled)
        filled += read
      }
      return bytes
    })
  )
