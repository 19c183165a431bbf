/**
 * The kernel lock under the directory lock: an exclusive POSIX record lock (fcntl) on an empty
 * SQLite database file, taken through Node's built-in `node:sqlite` — no package, no native build.
 *
 * Why SQLite: Node has no flock/fcntl API, and SQLite's unix VFS is a well-tested fcntl locker.
 * The kernel drops the lock when its process exits or dies, so there is no owner liveness to
 * guess (PID namespaces and pid reuse do not enter into it). Within one process SQLite tracks
 * locks per inode, so a second connection in the same process is refused too, whatever symlink
 * or spelling of the path reached the file.
 *
 * The file is never written. The lock is an open `BEGIN EXCLUSIVE` transaction holding one
 * uncommitted change, kept in memory and dropped when the connection closes (`LOCK_SQL`).
 *
 * The POSIX caveat this module lives with: a process loses its fcntl locks on a file as soon as
 * it closes ANY descriptor of that file. SQLite keeps its own descriptors of a locked inode open
 * until the lock is gone; nothing else in the process may open the file — not node:fs either.
 */
import type { DatabaseSync } from "node:sqlite"

export type KernelLockAttempt =
  | { readonly _tag: "Acquired"; readonly release: () => void }
  | { readonly _tag: "Busy" }
  | KernelLockFailure

export type KernelLockProbe = { readonly _tag: "Free" } | { readonly _tag: "Held" } | KernelLockFailure

export interface KernelLockFailure {
  readonly _tag: "Failed"
  /** SQLite's primary result code, when SQLite got that far (8 read-only, 14 cannot open, 26 not a database). */
  readonly sqliteCode: number | undefined
  readonly detail: string
}

/** Tries once, without waiting: `Busy` when another connection, in any process, holds it. */
export const tryKernelLock = (lockPath: string): KernelLockAttempt =>
  withConnection<KernelLockAttempt>(lockPath, false, { _tag: "Busy" }, (db) => {
    db.exec(LOCK_SQL)
    heldConnections.add(db)
    return {
      _tag: "Acquired",
      release: () => {
        heldConnections.delete(db)
        if (db.isOpen) db.close()
      }
    }
  })

/**
 * Whether the lock is held, by asking for a shared lock for the length of one read: never takes
 * the lock for longer than that, and never creates or writes the file. The caller checks that the
 * file exists. Closing this connection keeps the lock of a holder in this process: SQLite defers
 * closing a descriptor while its inode is locked.
 */
export const probeKernelLock = (lockPath: string): KernelLockProbe =>
  withConnection<KernelLockProbe>(lockPath, true, { _tag: "Held" }, (db) => {
    db.exec("SELECT count(*) FROM sqlite_master")
    db.close()
    return { _tag: "Free" }
  })

// internals

/**
 * - `journal_mode=MEMORY`: no `-journal` file beside the lock file.
 * - `BEGIN EXCLUSIVE`: the exclusive lock is taken now, not at a first write.
 * - `user_version=1`, never committed: fails with SQLITE_READONLY when SQLite fell back to a
 *   read-only descriptor (read-only mount, no write permission), on which `BEGIN EXCLUSIVE` of an
 *   empty database "succeeds" without taking any lock (tested).
 */
const LOCK_SQL = "PRAGMA journal_mode=MEMORY; BEGIN EXCLUSIVE; PRAGMA user_version=1"

const SQLITE_BUSY = 5
const SQLITE_LOCKED = 6
const SQLITE_PRIMARY_CODE_MASK = 0xff

/**
 * Connections that hold a lock. node:sqlite closes a connection when it is garbage collected,
 * which would drop its lock: a handle leaked without closing its scope must not unlock.
 */
const heldConnections = new Set<DatabaseSync>()

/** Opens a connection for `use`; a busy lock becomes `busy`, any other failure `Failed`. */
const withConnection = <A>(
  lockPath: string,
  readOnly: boolean,
  busy: A,
  use: (db: DatabaseSync) => A
): A | KernelLockFailure => {
  const sqlite = loadSqlite()
  if (sqlite._tag === "Failed") return sqlite
  let db: DatabaseSync | undefined
  try {
    // timeout 0: fail at once rather than block the event loop in SQLite's busy handler.
    db = new sqlite.module.DatabaseSync(lockPath, { readOnly, timeout: 0 })
    return use(db)
  } catch (error) {
    if (db?.isOpen === true && !heldConnections.has(db)) db.close()
    const code = sqliteCode(error)
    if (code === SQLITE_BUSY || code === SQLITE_LOCKED) return busy
    return { _tag: "Failed", sqliteCode: code, detail: describe(error) }
  }
}

/** Loaded on first use, so that importing tidal-wal does not load SQLite (Node 22 warns when it does). */
const loadSqlite = ():
  | { readonly _tag: "Loaded"; readonly module: typeof import("node:sqlite") }
  | KernelLockFailure => {
  const unavailable = (why: string): KernelLockFailure => ({
    _tag: "Failed",
    sqliteCode: undefined,
    detail: `the directory lock needs node:sqlite (Node >= 22.13): ${why}`
  })
  try {
    // Typed as always present, but undefined on a runtime without the module.
    const module: typeof import("node:sqlite") | undefined = process.getBuiltinModule("node:sqlite")
    return module === undefined ? unavailable("not available") : { _tag: "Loaded", module }
  } catch (error) {
    return unavailable(describe(error))
  }
}

const sqliteCode = (error: unknown): number | undefined =>
  typeof error === "object" && error !== null && "errcode" in error && typeof error.errcode === "number"
    ? error.errcode & SQLITE_PRIMARY_CODE_MASK
    : undefined

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error))
