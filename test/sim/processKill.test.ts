/**
 * Recovery syncs what it replays (docs/FORMAT.md §5, "Durability order"), proven on the simulated
 * disk with a process kill, which keeps the page cache: life 1 writes a batch and is killed before
 * its sync; life 2 opens, replays the event, checkpoints it; then the power goes. The event was
 * handed to the consumer and checkpointed, so it must survive — which it does only because open
 * synced the segment it replayed from. The control shows the event really was unsynced after the
 * kill: a cut right then loses it under some seed.
 *
 * The same holds for names: life 1 creates a segment and is killed before the directory sync that
 * makes its name durable; life 2 resumes that segment (no new name, so no sync of its own) and
 * acknowledges an append into it. Only open's directory sync keeps the file through a later cut.
 *
 * Seeds 1..SEEDS are fixed, so every run is the same; `SIM_KILL_SEED` runs one seed alone.
 */
import { NodePath } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, FileSystem, Logger, Stream } from "effect"
import { type SignalEvent, WalHandle, WalReader } from "../../src/index.ts"
import { DirectoryLocker, inMemoryDirectoryLocker } from "../../src/internal/fs/directoryLock.ts"
import { makeRng } from "../support/sim/rng.ts"
import type { DiskImage } from "../support/sim/SimDisk.ts"
import { SimulatedDisk } from "../support/sim/simFileSystem.ts"

const SEEDS = 40
const ONE_SEED = process.env.SIM_KILL_SEED === undefined ? undefined : Number(process.env.SIM_KILL_SEED)
const seeds = ONE_SEED === undefined ? Array.from({ length: SEEDS }, (_, i) => i + 1) : [ONE_SEED]
const DIR = "/sim/wal"
const EVENT: SignalEvent = { entityId: 42n, signalType: 7, weight: 0.5, timestamp: 1_000n }

/** Runs `effect` as one life of the process on `disk` (its file system, a fresh lock table, no log output). */
const inLife =
  (disk: SimulatedDisk) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    effect.pipe(
      Effect.provideService(FileSystem.FileSystem, disk.fileSystem),
      Effect.provideService(DirectoryLocker, inMemoryDirectoryLocker()),
      Effect.provide(NodePath.layer),
      Effect.provide(Logger.layer([]))
    )

/** Life 1: the append's batch is written, and the process is killed at the segment's sync. */
const killedBeforeSync = (seed: number) =>
  Effect.gen(function* () {
    const disk = SimulatedDisk.withDirectories(["/sim"], makeRng(seed), {
      killOn: { method: "sync", pathEndsWith: ".seg", skip: 0 }
    })
    const appended = yield* Effect.scoped(
      Effect.gen(function* () {
        const [wal] = yield* WalHandle.open({ dir: DIR, batchMaxWait: "0 millis" })
        return yield* Effect.exit(wal.append(EVENT))
      })
    ).pipe(inLife(disk))
    assert.isTrue(
      disk.isKilled,
      `seed ${seed}: the process was not killed: ${String(appended)}\n${disk.trace.join("\n")}`
    )
    assert.isTrue(Exit.isFailure(appended), `seed ${seed}: an append was acknowledged without its sync`)
    return disk
  })

/** Whether the log on a disk rebuilt from `image` holds the event at sequence number 1. */
const holdsTheEvent = (image: DiskImage, seed: number) =>
  Effect.gen(function* () {
    const after = new SimulatedDisk(image, makeRng(seed))
    const events = yield* WalReader.read(DIR).pipe(
      Stream.runCollect,
      Effect.provideService(FileSystem.FileSystem, after.inspection),
      Effect.provide(NodePath.layer),
      Effect.orElseSucceed(() => [])
    )
    const first = Array.from(events)[0]
    return first !== undefined && first.seq === 1n && first.entityId === EVENT.entityId
  })

/** Life 1: the segment is created, and the process is killed at the directory sync after it. */
const killedBeforeNameSync = (seed: number) =>
  Effect.gen(function* () {
    const disk = SimulatedDisk.withDirectories(["/sim"], makeRng(seed), {
      killAfter: { method: "create", pathEndsWith: ".seg", skip: 0 }
    })
    yield* Effect.scoped(
      Effect.gen(function* () {
        const [wal] = yield* WalHandle.open({ dir: DIR, batchMaxWait: "0 millis" })
        yield* Effect.exit(wal.append(EVENT))
      })
    ).pipe(inLife(disk))
    assert.isTrue(disk.isKilled, `seed ${seed}: the process was not killed`)
    return disk
  })

describe("a process kill keeps the page cache; open makes what it replays durable", () => {
  it.effect(
    `control: a cut right after the kill loses the unsynced event under some of ${seeds.length} seeds`,
    () =>
      Effect.gen(function* () {
        console.log(`process-kill control: seeds ${seeds.join(",")}`)
        const lost: Array<number> = []
        for (const seed of seeds) {
          const disk = yield* killedBeforeSync(seed)
          if (!(yield* holdsTheEvent(disk.powerCut(), seed))) lost.push(seed)
        }
        if (ONE_SEED === undefined)
          assert.isNotEmpty(lost, "the kill left the event durable: the test shows nothing")
      })
  )

  it.effect(
    `an event replayed after a kill and checkpointed survives a later cut, under all ${seeds.length} seeds`,
    () =>
      Effect.gen(function* () {
        console.log(`process-kill replay: seeds ${seeds.join(",")}`)
        const lost: Array<number> = []
        for (const seed of seeds) {
          const disk = yield* killedBeforeSync(seed)
          disk.nextLife()
          yield* Effect.scoped(
            Effect.gen(function* () {
              const [wal, replayed] = yield* WalHandle.open({ dir: DIR, batchMaxWait: "0 millis" })
              const event = replayed.at(0)
              assert.strictEqual(replayed.length, 1, `seed ${seed}: life 2 replays the killed life's event`)
              assert.strictEqual(event?.entityId, EVENT.entityId)
              // The consumer materialized it: checkpointed, acknowledged. Then the power goes.
              yield* wal.checkpoint(1n)
              disk.powerCut()
            })
          ).pipe(inLife(disk))
          if (!(yield* holdsTheEvent(disk.powerCut(), seed))) lost.push(seed)
        }
        assert.deepStrictEqual(
          lost,
          [],
          `seeds ${lost.join(",")} lost the replayed, checkpointed event (rerun one: SIM_KILL_SEED=<seed>)`
        )
      })
  )

  it.effect(
    `a segment whose name a killed life never synced, resumed by the next, keeps its acknowledged events, under all ${seeds.length} seeds`,
    () =>
      Effect.gen(function* () {
        console.log(`process-kill segment name: seeds ${seeds.join(",")}`)
        const lost: Array<number> = []
        for (const seed of seeds) {
          const disk = yield* killedBeforeNameSync(seed)
          disk.nextLife()
          yield* Effect.scoped(
            Effect.gen(function* () {
              const [wal, replayed] = yield* WalHandle.open({ dir: DIR, batchMaxWait: "0 millis" })
              assert.strictEqual(replayed.length, 0)
              assert.deepStrictEqual(
                (yield* wal.listSegments).map((segment) => segment.sizeBytes),
                [0],
                `seed ${seed}: life 2 finds the empty segment life 1 created`
              )
              assert.strictEqual(yield* wal.append(EVENT), 1n)
              disk.powerCut()
            })
          ).pipe(inLife(disk))
          if (!(yield* holdsTheEvent(disk.powerCut(), seed))) lost.push(seed)
        }
        assert.deepStrictEqual(
          lost,
          [],
          `seeds ${lost.join(",")} lost an acknowledged event (rerun one: SIM_KILL_SEED=<seed>)`
        )
      })
  )
})
