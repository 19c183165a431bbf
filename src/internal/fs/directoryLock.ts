/**
 * The directory lock (SPEC §3 "Open"): a `LOCK` file naming the owner's pid.
 *
 * A live owner — another process, or another handle in this process — makes open fail with
 * `LockedError`. A lock whose owner is dead is taken over. The file also records the owner's start
 * time (from /proc where it exists), so a dead owner whose pid was reused by an unrelated process
 * is still recognised as dead.
 */
import { readFileSync } from "node:fs"
import { Effect, FileSystem, Path } from "effect"
import { type IoError, LockedError } from "../../WalError.ts"
import { io, readFileIfExists, syncDirectory, writeFileSynced } from "./durable.ts"

export const LOCK_FILE = "LOCK"

export interface LockOwner {
  readonly pid: number
  readonly startTime: string
}

/**
 * Locks held by handles in this process, by LOCK path. Kept on `globalThis` under a registered
 * symbol so that two copies of this module in one process (a bundled and an installed one) still
 * see each other's locks — otherwise the second would find its own pid in LOCK and take it over.
 */
const heldInThisProcess: Set<string> = (() => {
  const key = Symbol.for("tidal-wal/heldLocks")
  const registry = globalThis as Record<symbol, unknown>
  const existing = registry[key]
  if (existing instanceof Set) return existing as Set<string>
  const created = new Set<string>()
  registry[key] = created
  return created
})()

/** Takes the lock for `dir`; the returned effect releases it. */
export const acquireDirectoryLock = (
  dir: string
): Effect.Effect<Effect.Effect<void>, LockedError | IoError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const lockPath = path.join(dir, LOCK_FILE)
    if (heldInThisProcess.has(lockPath)) return yield* new LockedError({ dir, ownerPid: process.pid })
    const self = currentOwner()
    const created = yield* writeFileSynced(fs, lockPath, encodeOwner(self), "wx").pipe(
      Effect.as(true),
      Effect.catchIf(
        (e) => isAlreadyExists(e.cause),
        () => Effect.succeed(false)
      )
    )
    if (!created) {
      const existing = yield* readLockOwner(fs, lockPath)
      if (existing !== undefined && isAlive(existing))
        return yield* new LockedError({ dir, ownerPid: existing.pid })
      const tmp = `${lockPath}.${process.pid}.tmp`
      yield* writeFileSynced(fs, tmp, encodeOwner(self))
      yield* io("rename", lockPath)(fs.rename(tmp, lockPath))
      // Two processes may take over the same stale lock at once; the last rename wins, and the
      // loser sees the winner's pid here.
      const after = yield* readLockOwner(fs, lockPath)
      if (after === undefined || after.pid !== self.pid || after.startTime !== self.startTime) {
        return yield* new LockedError({ dir, ownerPid: after?.pid ?? -1 })
      }
    }
    yield* syncDirectory(fs, dir)
    heldInThisProcess.add(lockPath)
    return releaseLock(fs, dir, lockPath, self)
  })

/** The lock's owner as recorded in `LOCK`, or `undefined` when there is no readable lock. */
export const readLockOwner = (
  fs: FileSystem.FileSystem,
  lockPath: string
): Effect.Effect<LockOwner | undefined, IoError> =>
  Effect.map(readFileIfExists(fs, lockPath), (bytes) =>
    bytes === undefined ? undefined : decodeOwner(bytes)
  )

/** Whether the recorded owner is still running (and is the same process, not a pid reuse). */
export const isAlive = (owner: LockOwner): boolean => {
  // Handles in this process are tracked in `heldInThisProcess`, checked before this is asked; a
  // LOCK naming this very process is left over from an earlier incarnation with the same pid.
  if (owner.pid === process.pid) return false
  try {
    process.kill(owner.pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false
  }
  const startTime = processStartTime(owner.pid)
  return owner.startTime === "" || startTime === "" || startTime === owner.startTime
}

// internals

const releaseLock = (
  fs: FileSystem.FileSystem,
  dir: string,
  lockPath: string,
  self: LockOwner
): Effect.Effect<void> =>
  Effect.gen(function* () {
    heldInThisProcess.delete(lockPath)
    const owner = yield* readLockOwner(fs, lockPath)
    if (owner?.pid === self.pid && owner.startTime === self.startTime) {
      yield* io("remove", lockPath)(fs.remove(lockPath))
      yield* syncDirectory(fs, dir)
    }
  }).pipe(Effect.ignore)

const currentOwner = (): LockOwner => ({ pid: process.pid, startTime: processStartTime(process.pid) })

const encodeOwner = (owner: LockOwner): Uint8Array =>
  new TextEncoder().encode(`${owner.pid}\n${owner.startTime}\n`)

const decodeOwner = (bytes: Uint8Array): LockOwner | undefined => {
  const [pidText, startTime] = new TextDecoder().decode(bytes).split("\n")
  const pid = Number(pidText)
  return Number.isSafeInteger(pid) && pid > 0 ? { pid, startTime: startTime ?? "" } : undefined
}

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot); "" where /proc is absent. */
const processStartTime = (pid: number): string => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    // The command name (field 2) may contain spaces and parentheses: split after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return fields[19] ?? ""
  } catch {
    return ""
  }
}

const isAlreadyExists = (cause: unknown): boolean =>
  typeof cause === "object" &&
  cause !== null &&
  "reason" in cause &&
  typeof cause.reason === "object" &&
  cause.reason !== null &&
  "_tag" in cause.reason &&
  cause.reason._tag === "AlreadyExists"
