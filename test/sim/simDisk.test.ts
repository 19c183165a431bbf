/**
 * The simulated disk checked on its own: a writer that skips a sync loses data under some power
 * cut, a careful writer never does, a seed reruns exactly, faults fire where asked, and a process
 * kill keeps the page cache for the next life while a later cut still forgets what was never
 * synced.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, type FileSystem } from "effect"
import { makeRng } from "../support/sim/rng.ts"
import { SimulatedDisk } from "../support/sim/simFileSystem.ts"

const SEEDS = 200
const payload = new TextEncoder().encode("acknowledged")

interface Steps {
  readonly syncFile: boolean
  readonly syncDirectory: boolean
}

/** Creates /d/f, writes it, syncs as told, "acknowledges", then the power goes. */
const writeThenCut = (seed: number, steps: Steps) =>
  Effect.gen(function* () {
    const disk = SimulatedDisk.withDirectories(["/d"], makeRng(seed))
    const fs = disk.fileSystem
    yield* Effect.scoped(
      Effect.gen(function* () {
        const file = yield* fs.open("/d/f", { flag: "wx" })
        yield* file.writeAll(payload)
        if (steps.syncFile) yield* file.sync
      })
    )
    if (steps.syncDirectory)
      yield* Effect.scoped(Effect.flatMap(fs.open("/d", { flag: "r" }), (dir) => dir.sync))
    const after = disk.powerCut().get("/d/f")
    return after instanceof Uint8Array && Buffer.from(after).equals(Buffer.from(payload))
  })

const survivals = (steps: Steps) =>
  Effect.forEach(
    Array.from({ length: SEEDS }, (_, seed) => seed),
    (seed) => writeThenCut(seed, steps)
  ).pipe(Effect.map((kept) => kept.filter(Boolean).length))

describe("the simulated disk", () => {
  it.effect(`a writer that acknowledges before the file's sync loses data in some of ${SEEDS} cuts`, () =>
    Effect.map(survivals({ syncFile: false, syncDirectory: true }), (kept) => assert.isBelow(kept, SEEDS))
  )

  it.effect(`a writer that never syncs the directory loses the new file in some of ${SEEDS} cuts`, () =>
    Effect.map(survivals({ syncFile: true, syncDirectory: false }), (kept) => assert.isBelow(kept, SEEDS))
  )

  it.effect(`a writer that syncs the file and then its directory keeps it in all ${SEEDS} cuts`, () =>
    Effect.map(survivals({ syncFile: true, syncDirectory: true }), (kept) => assert.strictEqual(kept, SEEDS))
  )

  it.effect("a seed gives the same disk after the cut, every time", () =>
    Effect.gen(function* () {
      const image = (seed: number) =>
        Effect.gen(function* () {
          const disk = SimulatedDisk.withDirectories(["/d"], makeRng(seed))
          yield* Effect.scoped(
            Effect.flatMap(disk.fileSystem.open("/d/f", { flag: "a" }), (file) =>
              file.writeAll(new Uint8Array(500).fill(7))
            )
          )
          return JSON.stringify(
            [...disk.powerCut()].map(([k, v]) => [k, v === "dir" ? v : Buffer.from(v).toString("hex")])
          )
        })
      for (let seed = 0; seed < 20; seed++)
        assert.strictEqual(yield* image(seed), yield* image(seed), `seed ${seed}`)
    })
  )

  it.effect("an injected fault fails exactly the chosen call; after a cut every call fails", () =>
    Effect.gen(function* () {
      const disk = SimulatedDisk.withDirectories(["/d"], makeRng(1), {
        faults: [{ method: "writeAll", pathEndsWith: "/f", skip: 1, errno: "ENOSPC" }],
        cutAtCall: 7
      })
      const fs: FileSystem.FileSystem = disk.fileSystem
      const results = yield* Effect.scoped(
        Effect.gen(function* () {
          const file = yield* fs.open("/d/f", { flag: "a" })
          const first = yield* Effect.exit(file.writeAll(payload))
          const second = yield* Effect.flip(file.writeAll(payload))
          const third = yield* Effect.exit(file.writeAll(payload))
          return { first, second, third }
        })
      )
      assert.strictEqual(results.first._tag, "Success")
      assert.include(results.second.message, "ENOSPC")
      assert.strictEqual(results.third._tag, "Success")
      yield* Effect.exit(fs.exists("/d/f"))
      yield* Effect.exit(fs.exists("/d/f"))
      const afterCut = yield* Effect.flip(fs.exists("/d/f"))
      assert.isTrue(disk.isCut)
      assert.include(afterCut.message, "EIO")
    })
  )

  it.effect(
    `a process kill: the next life sees unsynced bytes, the killed one's handles fail, a later cut may forget them (${SEEDS} seeds)`,
    () =>
      Effect.gen(function* () {
        let forgotten = 0
        for (let seed = 0; seed < SEEDS; seed++) {
          const disk = SimulatedDisk.withDirectories(["/d"], makeRng(seed))
          const afterKill = yield* Effect.scoped(
            Effect.gen(function* () {
              const file = yield* disk.fileSystem.open("/d/f", { flag: "wx" })
              yield* file.writeAll(payload)
              yield* Effect.scoped(
                Effect.flatMap(disk.fileSystem.open("/d", { flag: "r" }), (dir) => dir.sync)
              )
              disk.processKill()
              const oldHandle = yield* Effect.flip(file.writeAll(payload))
              const oldFileSystem = yield* Effect.flip(disk.fileSystem.exists("/d/f"))
              disk.nextLife()
              const seen = yield* disk.fileSystem.readFile("/d/f")
              return { oldHandle, oldFileSystem, seen }
            })
          )
          assert.include(afterKill.oldHandle.message, "EIO")
          assert.include(afterKill.oldFileSystem.message, "EIO")
          assert.deepStrictEqual(
            afterKill.seen,
            payload,
            `seed ${seed}: the page cache did not survive the kill`
          )
          const after = disk.powerCut().get("/d/f")
          if (!(after instanceof Uint8Array && Buffer.from(after).equals(Buffer.from(payload)))) forgotten++
        }
        assert.isAbove(forgotten, 0, "a cut after the kill kept the never-synced bytes under every seed")
      })
  )

  it.effect(`a process kill: bytes the next life syncs survive a later cut (${SEEDS} seeds)`, () =>
    Effect.gen(function* () {
      for (let seed = 0; seed < SEEDS; seed++) {
        const disk = SimulatedDisk.withDirectories(["/d"], makeRng(seed), {
          killOn: { method: "sync", pathEndsWith: "/f", skip: 0 }
        })
        yield* Effect.scoped(
          Effect.gen(function* () {
            const file = yield* disk.fileSystem.open("/d/f", { flag: "wx" })
            yield* file.writeAll(payload)
            yield* Effect.scoped(Effect.flatMap(disk.fileSystem.open("/d", { flag: "r" }), (dir) => dir.sync))
            assert.include((yield* Effect.flip(file.sync)).message, "EIO")
          })
        )
        assert.isTrue(disk.isKilled, `seed ${seed}`)
        disk.nextLife()
        yield* Effect.scoped(
          Effect.flatMap(disk.fileSystem.open("/d/f", { flag: "r+" }), (file) => file.sync)
        )
        const after = disk.powerCut().get("/d/f")
        assert.isTrue(
          after instanceof Uint8Array && Buffer.from(after).equals(Buffer.from(payload)),
          `seed ${seed}`
        )
      }
    })
  )
})
