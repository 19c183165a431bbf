/**
 * The owner record, `LOCK`: who holds a directory's lock, for error messages and `inspect`. It
 * never decides anything — the kernel lock on `LOCK.sqlite` does — so a stale record is harmless
 * and is simply replaced by the next holder.
 *
 * Its first two lines keep the format of the pid lock of earlier tidal-wal versions ("pid",
 * "start time"), so that such a version run against the same directory sees a live owner and
 * stays out. The start time is left empty: that version reads an empty start time as "cannot
 * tell a reused pid", i.e. alive. A record without this format's marker line was written by such
 * a version, whose owner may be alive with nothing able to prove otherwise: it is reported as
 * `Legacy`, and open refuses it (fail closed).
 */
import { hostname } from "node:os"

/** The owner record's name: the name of the earlier pid lock file, read by `inspect`. */
export const LOCK_FILE = "LOCK"

/** The file the kernel lock is taken on. Never written, never deleted. */
export const KERNEL_LOCK_FILE = `${LOCK_FILE}.sqlite`

export interface OwnerRecord {
  readonly pid: number
  readonly host: string
  /** Tells this process from another with the same pid and host (a PID namespace). */
  readonly instance: string
  readonly sinceIso: string
}

export type DecodedOwnerRecord =
  | { readonly _tag: "Current"; readonly record: OwnerRecord }
  | { readonly _tag: "Legacy"; readonly pid: number | undefined }

/** The record this process writes when it takes a lock at `nowMillis`. */
export const ownRecord = (nowMillis: number): OwnerRecord => ({
  pid: process.pid,
  host: hostname(),
  instance: processInstance(),
  sinceIso: new Date(nowMillis).toISOString()
})

export const encodeOwnerRecord = (record: OwnerRecord): string =>
  [
    String(record.pid),
    "",
    MARKER,
    `host=${record.host}`,
    `instance=${record.instance}`,
    `since=${record.sinceIso}`,
    ""
  ].join("\n")

export const decodeOwnerRecord = (text: string): DecodedOwnerRecord => {
  const lines = text.split("\n")
  const pid = parsePid(lines[0])
  if (lines[2] !== MARKER || pid === undefined) return { _tag: "Legacy", pid }
  const field = (name: string) =>
    lines.find((line) => line.startsWith(`${name}=`))?.slice(name.length + 1) ?? "unknown"
  return {
    _tag: "Current",
    record: { pid, host: field("host"), instance: field("instance"), sinceIso: field("since") }
  }
}

/** "process 12 on host db-1, since …", or "this process (pid 12 on host db-1, since …)". */
export const describeOwner = (record: OwnerRecord): string => {
  const where = `pid ${record.pid} on host ${record.host}, since ${record.sinceIso}`
  return isThisProcess(record) ? `this process (${where})` : `process ${where}`
}

/** Pid and host alone could be another process: one in another PID namespace, same hostname. */
export const isThisProcess = (record: OwnerRecord): boolean =>
  record.instance === processInstance() && record.pid === process.pid

// internals

const MARKER = `tidal-wal owner record 2 (informational; the lock is the kernel lock on ${KERNEL_LOCK_FILE})`

const parsePid = (text: string | undefined): number | undefined => {
  const pid = Number(text)
  return text !== undefined && text !== "" && Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
}

/**
 * A random id for this process, kept on `globalThis` under a registered symbol so that two copies
 * of this module in one process (bundled and installed) agree on it.
 */
const processInstance = (): string => {
  const key = Symbol.for("tidal-wal/processInstance")
  const registry = globalThis as Record<symbol, unknown>
  const existing = registry[key]
  if (typeof existing === "string") return existing
  const created = globalThis.crypto.randomUUID()
  registry[key] = created
  return created
}
