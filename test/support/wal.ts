/**
 * Shared test helpers: temp directories, event factories, directory snapshots and layers.
 */
import { NodePath, NodeServices } from "@effect/platform-node"
import { Effect, FileSystem, Layer, Path } from "effect"
import type { SignalEvent } from "../../src/index.ts"
import { KERNEL_LOCK_FILE } from "../../src/internal/fs/directoryLock.ts"
import { type FaultPlan, faultyFileSystemLayer } from "./FaultyFileSystem.ts"
import { makeRng, type Rng } from "./sim/rng.ts"

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

/**
 * A real-time pause, which virtual time (TestClock) cannot advance past. Prefer `letFibersRun`
 * when only fibers need to run, and `untilReal` when real I/O must finish: a fixed pause proves
 * nothing when the machine is slower than the pause, and wastes time when it is faster.
 */
export const settle = (millis = 30) =>
  Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, millis)))

/**
 * Lets every fiber that can run, run, while virtual time stands still: enough scheduler turns
 * for the short chains of wake-ups (a queue offer, a Deferred, a timer registered) tests wait on.
 * No real time passes, so nothing that needs the disk or the network happens.
 */
export const letFibersRun = Effect.gen(function* () {
  for (let turn = 0; turn < 100; turn++) yield* Effect.yieldNow
})

/**
 * Waits in real time, also under TestClock, until `condition` holds: for real disk I/O that a
 * test cannot step. Checked every millisecond; a defect naming `what` after `timeoutMillis`.
 */
export const untilReal = (what: string, condition: () => boolean, timeoutMillis = 10_000) =>
  Effect.gen(function* () {
    const deadline = Date.now() + timeoutMillis
    while (!condition()) {
      if (Date.now() > deadline) return yield* Effect.die(new Error(`waited ${timeoutMillis} ms for ${what}`))
      yield* settle(1)
    }
  })

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

/**
 * The generator of a randomized test: seeded from `envVar` when it is set, else from a new seed,
 * which is printed with the command that reruns it. Put `rng.seed` in the test's name or its
 * failure messages too, so a failure report carries it.
 */
export const seededRng = (envVar: string, label: string): Rng => {
  const fromEnv = process.env[envVar]
  const seed = fromEnv === undefined || fromEnv === "" ? Math.floor(Math.random() * 2 ** 31) : Number(fromEnv)
  if (!Number.isSafeInteger(seed)) throw new Error(`${envVar}=${fromEnv} is not an integer seed`)
  console.log(`${label}: seed ${seed} (${envVar}=${seed} reruns it)`)
  return makeRng(seed)
}
