/**
 * The directory lock (docs/FORMAT.md §12 "Lock and identity files"): one writer per WAL directory — against a second handle in
 * the same process, another process, and a process in another PID namespace.
 *
 * The decision is a kernel lock on `LOCK.sqlite` (kernelLock.ts). The kernel releases it when its
 * holder closes the WAL or dies, so a lock is never stale and is never "taken over": there is no
 * liveness to guess, and nothing to get wrong about pids. `LOCK` (lockOwnerRecord.ts) says who
 * holds it, for messages only. The WAL works on the directory's real path (`canonicalDirectory`),
 * so the handle's `dir` is the same whatever spelling or symlink opened it; the lock itself is
 * per inode and does not depend on the spelling at all.
 *
 * `DirectoryLocker` is the seam: the default locks the real directory; tests that run the WAL on
 * a simulated file system provide `inMemoryDirectoryLocker()` instead.
 *
 * Limits: the kernel lock excludes processes of one kernel (and of NFS clients, when the mount
 * forwards POSIX locks to the server). A process loses the lock if it opens and closes
 * `LOCK.sqlite` by any other means (POSIX fcntl semantics), so nothing here reads that file;
 * `lockStatus` probes it through SQLite, which keeps a holder's lock in the same process.
 */
import { Clock, Context, Effect, Exit, FileSystem, Path, type PlatformError, Scope } from "effect"
import { IoError, LockedError } from "../../WalError.ts"
import { io, readFileIfExists, writeFileSynced } from "./durable.ts"
import { type KernelLockFailure, probeKernelLock, tryKernelLock } from "./kernelLock.ts"
import {
  type DecodedOwnerRecord,
  decodeOwnerRecord,
  describeOwner,
  encodeOwnerRecord,
  isThisProcess,
  KERNEL_LOCK_FILE,
  LOCK_FILE,
  type OwnerRecord,
  ownRecord
} from "./lockOwnerRecord.ts"

export { KERNEL_LOCK_FILE, LOCK_FILE } from "./lockOwnerRecord.ts"

/** Takes the lock on a directory for the life of a scope. */
export interface DirectoryLockerShape {
  /** Locks `dir` (a canonical path) until the scope closes; fails at once if it is held. */
  readonly acquire: (
    dir: string
  ) => Effect.Effect<void, LockedError | IoError, Scope.Scope | FileSystem.FileSystem | Path.Path>
}

/** The locker `WalHandle.open` uses; by default the kernel lock on the real directory. */
export const DirectoryLocker = Context.Reference<DirectoryLockerShape>("tidal-wal/DirectoryLocker", {
  defaultValue: () => kernelDirectoryLocker
})

/** A lock that exists only in this locker's memory, for a WAL on a simulated file system. */
export const inMemoryDirectoryLocker = (): DirectoryLockerShape => {
  const held = new Set<string>()
  return {
    acquire: (dir) =>
      Effect.acquireRelease(
        Effect.suspend(() => {
          if (held.has(dir)) {
            return Effect.fail(
              explainedLockedError(dir, 0, `WAL directory ${dir} is locked (in-memory locker)`)
            )
          }
          held.add(dir)
          return Effect.void
        }),
        () => Effect.sync(() => held.delete(dir))
      )
  }
}

/**
 * Runs `use` holding the lock that `acquire` takes, in a scope of its own under the caller's:
 * - `use` gets `releaseLock`, to release it early (shutdown); releasing twice is harmless;
 * - if `acquire` or `use` fails or is interrupted, the lock is released at once, not when the
 *   caller's scope closes;
 * - otherwise it is released when the caller's scope closes, after every finalizer `use` added
 *   there, since its own scope was registered first.
 */
export const holdingLock = <A, E, R, E2, R2>(
  acquire: Effect.Effect<void, E, R>,
  use: (releaseLock: Effect.Effect<void>) => Effect.Effect<A, E2, R2>
): Effect.Effect<A, E | E2, Exclude<R, Scope.Scope> | R2 | Scope.Scope> =>
  // Uninterruptible between the steps, so that no interruption lands after the lock is taken and
  // before the release on failure is in place.
  Effect.uninterruptibleMask((restore) =>
    Effect.gen(function* () {
      const lockScope = yield* Scope.fork(yield* Effect.scope)
      const releaseLock = Scope.close(lockScope, Exit.void)
      yield* restore(acquire).pipe(
        Scope.provide(lockScope),
        Effect.onError(() => releaseLock)
      )
      return yield* restore(use(releaseLock)).pipe(Effect.onError(() => releaseLock))
    })
  )

/** The directory's real path: symlinks, `.`, `..` and repeated separators resolved. It must exist. */
export const canonicalDirectory = (fs: FileSystem.FileSystem, dir: string): Effect.Effect<string, IoError> =>
  io("stat", dir)(fs.realPath(dir))

export interface LockStatus {
  /** Whether an open would fail with `LockedError` now. */
  readonly held: boolean
  /** Who holds it, e.g. "process 12 on host db-1, since …", when the holder recorded itself. */
  readonly owner?: string
}

/**
 * Whether `dir`'s lock is held, and by whom: read-only, creates nothing, and takes the lock only
 * for the length of one probe (an open racing that very probe may fail with `LockedError`). Safe
 * in a process that holds the lock itself.
 */
export const lockStatus = (
  dir: string
): Effect.Effect<LockStatus, IoError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const state = yield* readLockState(fs, lockFiles(yield* Path.Path, dir))
    if (!state.held) return { held: false }
    const owner = state.record === undefined ? undefined : describeRecord(state.record)
    return owner === undefined ? { held: true } : { held: true, owner }
  })

// internals

interface LockFiles {
  readonly owner: string
  readonly kernel: string
}

const lockFiles = (path: Path.Path, dir: string): LockFiles => ({
  owner: path.join(dir, LOCK_FILE),
  kernel: path.join(dir, KERNEL_LOCK_FILE)
})

const kernelDirectoryLocker: DirectoryLockerShape = {
  acquire: (dir) =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const files = lockFiles(yield* Path.Path, dir)
      const attempt = yield* Effect.acquireRelease(
        Effect.sync(() => tryKernelLock(files.kernel)),
        (taken) => Effect.sync(() => (taken._tag === "Acquired" ? taken.release() : undefined))
      )
      if (attempt._tag === "Busy") return yield* heldElsewhere(fs, dir, files)
      if (attempt._tag === "Failed") {
        return yield* kernelLockIoError(fs, [dir, files.kernel], files.kernel, attempt)
      }
      const previous = yield* readOwnerRecord(fs, files.owner)
      if (previous?._tag === "Legacy") return yield* legacyLockError(dir, files.owner, previous.pid)
      const record = ownRecord(yield* Clock.currentTimeMillis)
      yield* Effect.acquireRelease(writeOwnerRecord(fs, files.owner, record), () =>
        removeOwnerRecord(fs, files.owner, record)
      )
    })
}

type LockState =
  | { readonly held: false }
  | { readonly held: true; readonly record: DecodedOwnerRecord | undefined }

const readLockState = (fs: FileSystem.FileSystem, files: LockFiles): Effect.Effect<LockState, IoError> =>
  Effect.gen(function* () {
    const exists = yield* io("stat", files.kernel)(fs.exists(files.kernel))
    const probe = exists ? yield* Effect.sync(() => probeKernelLock(files.kernel)) : undefined
    if (probe?._tag === "Failed") return yield* kernelLockIoError(fs, [], files.kernel, probe)
    const record = yield* readOwnerRecord(fs, files.owner)
    // An earlier version's LOCK counts as held: open refuses it until it is deleted by hand.
    const held = probe?._tag === "Held" || record?._tag === "Legacy"
    return held ? { held, record } : { held }
  })

const readOwnerRecord = (
  fs: FileSystem.FileSystem,
  ownerPath: string
): Effect.Effect<DecodedOwnerRecord | undefined, IoError> =>
  Effect.map(readFileIfExists(fs, ownerPath), (bytes) =>
    bytes === undefined ? undefined : decodeOwnerRecord(new TextDecoder().decode(bytes))
  )

/**
 * Through a temporary file and a rename, so that a reader never sees half a record; synced first,
 * so that a power cut cannot leave an empty `LOCK`, which would read as an earlier version's.
 */
const writeOwnerRecord = (
  fs: FileSystem.FileSystem,
  ownerPath: string,
  record: OwnerRecord
): Effect.Effect<void, IoError> => {
  const tmp = `${ownerPath}.tmp`
  return writeFileSynced(fs, tmp, new TextEncoder().encode(encodeOwnerRecord(record))).pipe(
    Effect.andThen(io("rename", ownerPath)(fs.rename(tmp, ownerPath))),
    Effect.tapError(() => Effect.ignore(fs.remove(tmp)))
  )
}

/** Removes `LOCK` if it is still this holder's record; a failure leaves a harmless stale record. */
const removeOwnerRecord = (
  fs: FileSystem.FileSystem,
  ownerPath: string,
  record: OwnerRecord
): Effect.Effect<void> =>
  Effect.gen(function* () {
    const bytes = yield* readFileIfExists(fs, ownerPath)
    if (bytes !== undefined && new TextDecoder().decode(bytes) === encodeOwnerRecord(record)) {
      yield* io("remove", ownerPath)(fs.remove(ownerPath))
    }
  }).pipe(Effect.ignore)

const heldElsewhere = (
  fs: FileSystem.FileSystem,
  dir: string,
  files: LockFiles
): Effect.Effect<never, LockedError> =>
  Effect.gen(function* () {
    const previous = yield* readOwnerRecord(fs, files.owner).pipe(Effect.orElseSucceed(() => undefined))
    const owner = previous?._tag === "Current" ? previous.record : undefined
    return yield* explainedLockedError(dir, owner?.pid ?? 0, busyMessage(dir, files.kernel, owner))
  })

const busyMessage = (dir: string, kernelPath: string, owner: OwnerRecord | undefined): string => {
  const who =
    owner === undefined
      ? "a process that has not recorded itself in LOCK yet"
      : isThisProcess(owner)
        ? `${describeOwner(owner)}: another WalHandle on the same directory, perhaps through a symlink or another spelling of its path`
        : describeOwner(owner)
  return (
    `WAL directory ${dir} is locked by ${who}. The lock is a kernel lock on ${kernelPath}; the ` +
    "kernel releases it when its holder closes the WAL or exits, even by a crash, so it is never " +
    "stale and there is nothing to clear by hand: close that WalHandle or stop that process. " +
    `Do not delete ${KERNEL_LOCK_FILE}: that would let a second writer in.`
  )
}

const legacyLockError = (dir: string, ownerPath: string, pid: number | undefined): LockedError =>
  explainedLockedError(
    dir,
    pid ?? 0,
    `WAL directory ${dir} has a LOCK file from an earlier tidal-wal version${pid === undefined ? "" : ` naming pid ${pid}`}, ` +
      "which locked by process id alone. Whether that process still runs cannot be proven (it may " +
      "run in another PID namespace, container or host), so the directory counts as locked. If no " +
      `process is using the directory, delete ${ownerPath} by hand and open again.`
  )

const describeRecord = (decoded: DecodedOwnerRecord): string =>
  decoded._tag === "Current"
    ? describeOwner(decoded.record)
    : `${decoded.pid === undefined ? "an unknown process" : `pid ${decoded.pid}`}, per a LOCK file from an ` +
      "earlier tidal-wal version; open refuses it until LOCK is deleted by hand"

/**
 * SQLite says "unable to open database file" or "attempt to write a readonly database" without
 * the errno; access(2) finds it without opening `LOCK.sqlite`, which would drop a lock this
 * process holds on it.
 */
const kernelLockIoError = (
  fs: FileSystem.FileSystem,
  mustBeWritable: ReadonlyArray<string>,
  kernelPath: string,
  failure: KernelLockFailure
): Effect.Effect<never, IoError> =>
  Effect.gen(function* () {
    let cause: unknown = new Error(sqliteFailureText(kernelPath, failure))
    for (const target of mustBeWritable) {
      const denied = yield* Effect.match(fs.access(target, { writable: true }), {
        onFailure: (error): PlatformError.PlatformError | undefined =>
          error.reason._tag === "NotFound" ? undefined : error,
        onSuccess: () => undefined
      })
      if (denied !== undefined) {
        cause = denied
        break
      }
    }
    return yield* new IoError({ operation: "open", path: kernelPath, cause })
  })

const SQLITE_NOTADB = 26

const sqliteFailureText = (kernelPath: string, failure: KernelLockFailure): string =>
  failure.sqliteCode === SQLITE_NOTADB
    ? `${kernelPath} is not an empty SQLite file, so it cannot carry the lock (${failure.detail}); ` +
      "no process holds it. If no process is using the directory, delete it by hand."
    : `cannot take the kernel lock: ${failure.detail}`

const explainedLockedError = (dir: string, ownerPid: number, explanation: string): LockedError =>
  new LockedError({ dir, ownerPid, detail: explanation })
