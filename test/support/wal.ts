/**
 * Shared test helpers: temp directories, event factories, directory snapshots and layers.
 */
import { NodePath, NodeServices } from "@effect/platform-node"
import { Effect, FileSystem, Layer, Path } from "effect"
import type { SignalEvent } from "../../src/index.ts"
import { KERNEL_LOCK_FILE } from "../../src/internal/fs/directoryLock.ts"
import { type FaultPlan, faultyFileSystemLayer } from "./FaultyFileSystem.ts"

/** Real Node file system, path, and friends. */
export const nodeLayer = NodeServices.layer

/** The recording / fault-injecting file system over the real one. */
export const faultyLayer = (plan: FaultPlan) => Layer.mergeAll(faultyFileSystemLayer(plan), NodePath.layer)

export const tempDir = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  return yield* fs.makeTempDirectoryScoped({ prefix: "tidal-wal-test-" })
})

/** A distinct, valid event for every `i`. */
export const eventFor = (i: number): SignalEvent => ({
  entityId: BigInt(i) * 7919n + 1n,
  signalType: i % 4,
  weight: Math.fround((i % 1000) / 8),
  timestamp: 1_700_000_000_000_000_000n + BigInt(i)
})

/** An event as it comes back from disk: `weight` rounded to f32. */
export const stored = (e: SignalEvent): SignalEvent => ({ ...plainEvent(e), weight: Math.fround(e.weight) })

/** `eventFor(i)` as it comes back from disk. */
export const storedFor = (i: number): SignalEvent => stored(eventFor(i))

export const eventsFor = (count: number, from = 0): Array<SignalEvent> =>
  Array.from({ length: count }, (_, i) => eventFor(from + i))

/** Lets forked fibers run: a real-time pause, which virtual time (TestClock) cannot advance past. */
export const settle = (millis = 30) =>
  Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, millis)))

/** Every file under `dir` (recursively) with its bytes, as hex, by relative path. */
export const snapshotDir = (dir: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const snapshot: Record<string, string> = {}
    if (!(yield* fs.exists(dir))) return snapshot
    for (const name of (yield* fs.readDirectory(dir, { recursive: true })).sort()) {
      const full = path.join(dir, name)
      // Opening the kernel lock file here would drop this process's lock on it (POSIX).
      if (name.endsWith(KERNEL_LOCK_FILE) || (yield* fs.stat(full)).type !== "File") continue
      snapshot[name] = Buffer.from(yield* fs.readFile(full)).toString("hex")
    }
    return snapshot
  })

export const plainEvent = (e: SignalEvent): SignalEvent => ({
  entityId: e.entityId,
  signalType: e.signalType,
  weight: e.weight,
  timestamp: e.timestamp
})
