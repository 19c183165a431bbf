/**
 * Builds small logs on disk for recovery tests, and copies or damages them.
 */
import { createHash } from "node:crypto"
import { Effect, FileSystem, Path } from "effect"
import { type WalConfigInput, WalHandle } from "../../src/index.ts"
import { KERNEL_LOCK_FILE } from "../../src/internal/fs/directoryLock.ts"
import { eventsFor } from "./wal.ts"

/**
 * Writes `batches` batches of `eventsPerBatch` events (eager group commit, one appendAll per
 * batch), rotating every `segmentMaxBytes`. Returns the events in sequence order.
 */
export const buildLog = (
  dir: string,
  batches: number,
  eventsPerBatch: number,
  overrides: Partial<WalConfigInput> = {}
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const [wal] = yield* WalHandle.open({
        dir,
        groupCommit: "eager",
        batchMaxEvents: eventsPerBatch,
        ...overrides
      })
      const events = eventsFor(batches * eventsPerBatch)
      for (let b = 0; b < batches; b++) {
        yield* wal.appendAll(events.slice(b * eventsPerBatch, (b + 1) * eventsPerBatch))
      }
      return events
    })
  )

export const segmentPaths = (dir: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    return (yield* fs.readDirectory(dir))
      .filter((n) => n.endsWith(".seg"))
      .sort()
      .map((n) => path.join(dir, n))
  })

/** sha256 of every file under `dir`, by relative path (what "changes no byte" compares). */
export const hashTree = (dir: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const hashes: Record<string, string> = {}
    for (const name of (yield* fs.readDirectory(dir, { recursive: true })).sort()) {
      const full = path.join(dir, name)
      // Opening the kernel lock file here would drop this process's lock on it (POSIX).
      if (name.endsWith(KERNEL_LOCK_FILE) || (yield* fs.stat(full)).type !== "File") continue
      hashes[name] = createHash("sha256")
        .update(yield* fs.readFile(full))
        .digest("hex")
    }
    return hashes
  })

/** Copies every file of `source` into a fresh temp directory (scoped). */
export const copyLog = (source: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const target = yield* fs.makeTempDirectoryScoped({ prefix: "tidal-wal-copy-" })
    for (const name of yield* fs.readDirectory(source)) {
      const from = path.join(source, name)
      if (name !== KERNEL_LOCK_FILE && (yield* fs.stat(from)).type === "File")
        yield* fs.copyFile(from, path.join(target, name))
    }
    return target
  })

export const quarantineFiles = (dir: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const qdir = path.join(dir, "quarantine")
    if (!(yield* fs.exists(qdir))) return []
    return (yield* fs.readDirectory(qdir)).sort().map((n) => path.join(qdir, n))
  })
