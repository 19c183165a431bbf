/**
 * Issue #12: "An interrupted or failed open never leaves its lock behind" (SPEC §3 "Open"). An
 * open is interrupted at each of its asynchronous steps in turn — the caller's scope staying open —
 * and opens that fail (corrupt log, full disk) are followed at once by an open in this process
 * and one in another process, both of which must succeed. Public API only, so each test also runs
 * against the earlier lock.
 */
import { appendFileSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Deferred, Effect, Exit, Fiber } from "effect"
import { CorruptionError, IoError, WalHandle } from "../../src/index.ts"
import { FaultPlan } from "../support/FaultyFileSystem.ts"
import { gateAt } from "../support/lockGate.ts"
import { type LockChild, readyLockChild } from "../support/lockProcess.ts"
import { eventsFor, faultyLayer, nodeLayer, tempDir } from "../support/wal.ts"

/** More steps than an open of a small log takes; the loop stops at the first open that completes. */
const MAX_STEPS = 200

describe("an interrupted or failed open leaves no lock behind", () => {
  it.live(
    "interrupted at each asynchronous step k = 1, 2, …: this process and another can open at once",
    () =>
      Effect.gen(function* () {
        const dir = join(yield* tempDir, "wal")
        yield* Effect.scoped(Effect.flatMap(WalHandle.open({ dir }), ([wal]) => wal.appendAll(eventsFor(10))))
        const prober = (yield* readyLockChild(["probe", dir])).child
        let interrupted = 0
        for (let step = 1; step <= MAX_STEPS; step++) {
          const { gate, layer } = yield* gateAt(step)
          // Forked into this test's scope, which stays open: nothing is released by closing it.
          const opening = yield* Effect.forkChild(WalHandle.open({ dir }).pipe(Effect.provide(layer)))
          const reached = yield* Effect.raceFirst(
            Effect.as(Deferred.await(gate.reached), true),
            Effect.as(Fiber.await(opening), false)
          )
          if (!reached) {
            // Past the last step: the open completed. Done, once it is shut down (through the gate).
            yield* Deferred.succeed(gate.open, undefined)
            const [wal] = yield* Fiber.join(opening)
            yield* wal.shutdown
            break
          }
          const interrupting = yield* Effect.forkChild(Fiber.interrupt(opening))
          yield* Deferred.succeed(gate.open, undefined)
          yield* Fiber.join(interrupting)
          const exit = yield* Fiber.await(opening)
          if (Exit.isSuccess(exit)) {
            // Interrupted after its last interruptible step: it opened. Not this test's case.
            yield* exit.value[0].shutdown
            continue
          }
          interrupted++
          assert.isTrue(Cause.hasInterruptsOnly(exit.cause), `step ${step}: ${Cause.pretty(exit.cause)}`)
          yield* expectFree(dir, prober, `interrupted at step ${step} of ${gate.count()}`)
        }
        assert.isAtLeast(interrupted, 10, "an open has at least 10 asynchronous steps")
      }).pipe(Effect.scoped, Effect.provide(nodeLayer)),
    { timeout: 240_000 }
  )

  it.live("an open that fails in recovery (CorruptionError) releases the lock at once", () =>
    Effect.gen(function* () {
      const dir = join(yield* tempDir, "wal")
      yield* Effect.scoped(Effect.flatMap(WalHandle.open({ dir }), ([wal]) => wal.appendAll(eventsFor(10))))
      const segment = readdirSync(dir).find((name) => name.endsWith(".seg")) ?? ""
      appendFileSync(join(dir, segment), new Uint8Array(100).fill(7))
      const prober = (yield* readyLockChild(["probe", dir])).child
      const error = yield* Effect.flip(WalHandle.open({ dir, recoveryMode: "strict" }))
      assert.instanceOf(error, CorruptionError)
      yield* expectFree(dir, prober, "after CorruptionError")
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("an open that fails writing the lock's owner record (ENOSPC) leaves no LOCK and no lock", () =>
    Effect.gen(function* () {
      const dir = join(yield* tempDir, "wal")
      yield* Effect.scoped(WalHandle.open({ dir }))
      const prober = (yield* readyLockChild(["probe", dir])).child
      // The record is written to LOCK.tmp and renamed (the earlier lock wrote LOCK itself).
      const plan = new FaultPlan()
        .inject({ operation: "write", pathEndsWith: "/LOCK.tmp", skip: 0, errno: "ENOSPC" })
        .inject({ operation: "write", pathEndsWith: "/LOCK", skip: 0, errno: "ENOSPC" })
      const error = yield* Effect.flip(WalHandle.open({ dir }).pipe(Effect.provide(faultyLayer(plan))))
      assert.instanceOf(error, IoError)
      assert.include(error.message, "ENOSPC")
      assert.deepStrictEqual(
        readdirSync(dir).filter(
          (name) => name === "LOCK" || (name.startsWith("LOCK.") && name.endsWith("tmp"))
        ),
        []
      )
      yield* expectFree(dir, prober, "after ENOSPC")
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})

let probes = 0

/** Another process, then this one, can open `dir` now; no owner record was left behind. */
const expectFree = (dir: string, prober: LockChild, context: string) =>
  Effect.gen(function* () {
    const leftovers = readdirSync(dir).filter((name) => name === "LOCK" || name === "LOCK.tmp")
    const probe = ++probes
    yield* prober.send(`probe ${probe}`)
    assert.strictEqual(yield* prober.line(`probe ${probe} `), `probe ${probe} free`, context)
    yield* Effect.scoped(WalHandle.open({ dir }))
    assert.deepStrictEqual(leftovers, [], `${context}: no owner record left behind`)
  })
