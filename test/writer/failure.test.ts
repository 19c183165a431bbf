/**
 * SPEC §3 "Failure", with faults a real disk will not make on demand: EIO on write, EIO on sync,
 * ENOSPC, a torn (short) write. The waiting appends fail with IoError, later ones with
 * ClosedError, a failed sync is never retried, and a reopen recovers a valid prefix.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber } from "effect"
import { ClosedError, IoError, WalHandle } from "../../src/index.ts"
import { type Fault, FaultPlan } from "../support/FaultyFileSystem.ts"
import {
  eventFor,
  eventsFor,
  faultyLayer,
  nodeLayer,
  plainEvent,
  storedFor,
  tempDir
} from "../support/wal.ts"

const faults: ReadonlyArray<readonly [string, Omit<Fault, "pathEndsWith">]> = [
  ["EIO on write", { operation: "write", skip: 2, errno: "EIO" }],
  ["EIO on sync", { operation: "sync", skip: 2, errno: "EIO" }],
  ["ENOSPC on write", { operation: "write", skip: 2, errno: "ENOSPC" }],
  ["a short write", { operation: "write", skip: 2, errno: "EIO", tornAfterBytes: 1000 }]
]

describe("write and sync failures", () => {
  for (const [name, fault] of faults) {
    it.live(
      `${name}: the batch's appends fail with IoError, later ones with ClosedError, and reopen recovers`,
      () => {
        const plan = new FaultPlan().inject({ ...fault, pathEndsWith: ".seg" })
        return Effect.gen(function* () {
          const dir = yield* tempDir
          const [first, second, third] = yield* Effect.scoped(
            Effect.gen(function* () {
              const [wal] = yield* WalHandle.open({ dir, groupCommit: "eager" })
              // Two good batches, then the faulty third.
              const ok = yield* wal.appendAll(eventsFor(100))
              const ok2 = yield* wal.appendAll(eventsFor(100, 100))
              const failing = yield* Effect.forkChild(
                Effect.forEach(eventsFor(100, 200), (e) => Effect.exit(wal.append(e)), {
                  concurrency: "unbounded"
                })
              )
              const exits = yield* Fiber.join(failing)
              const later = yield* Effect.exit(wal.append(eventFor(999)))
              const laterAll = yield* Effect.exit(wal.appendAll([eventFor(998)]))
              const laterCommand = yield* Effect.exit(wal.checkpoint(1n))
              return [ok.concat(ok2), exits, [later, laterAll, laterCommand] as const] as const
            })
          )
          assert.strictEqual(first.length, 200)
          const failures = second.filter(Exit.isFailure)
          assert.isAbove(failures.length, 0)
          let ioErrors = 0
          for (const exit of second) {
            if (Exit.isSuccess(exit)) continue
            const error = exit.cause.reasons[0]
            const value = error?._tag === "Fail" ? error.error : undefined
            assert.isTrue(value instanceof IoError || value instanceof ClosedError, String(value))
            if (value instanceof IoError) {
              ioErrors++
              assert.include(value.message, ".seg")
              assert.oneOf(value.operation, ["write", "sync"])
            }
          }
          assert.isAbove(ioErrors, 0)
          for (const exit of third) {
            assert.strictEqual(exit._tag, "Failure")
            if (exit._tag === "Failure") {
              const reason = exit.cause.reasons[0]
              const value = reason?._tag === "Fail" ? reason.error : undefined
              assert.instanceOf(value, ClosedError)
              if (value instanceof ClosedError) assert.strictEqual(value.reason, "WriteFailed")
            }
          }
          // The failed sync (or write) was not retried: no sync on a segment after the fault.
          const faultIndex = plan.log.findIndex(
            (c, i) =>
              c.operation === fault.operation &&
              c.path.endsWith(".seg") &&
              plan.log.slice(0, i).filter((d) => d.operation === fault.operation && d.path.endsWith(".seg"))
                .length === 2
          )
          assert.isAtLeast(faultIndex, 0)
          assert.deepStrictEqual(
            plan.log
              .slice(faultIndex + 1)
              .filter((c) => c.path.endsWith(".seg") && (c.operation === "sync" || c.operation === "write")),
            []
          )
          // Reopen on the real file system: a valid prefix, including every acknowledged event.
          const [wal, replayed] = yield* WalHandle.open({ dir }).pipe(Effect.provide(nodeLayer))
          assert.isAtLeast(replayed.length, 200)
          const acknowledged = second.filter(Exit.isSuccess).length
          assert.isAtLeast(replayed.length, 200 + acknowledged)
          for (const event of replayed) {
            const index = Number(event.seq) - 1
            if (index < 200) assert.deepStrictEqual(plainEvent(event), storedFor(index))
          }
          assert.strictEqual(
            yield* Effect.provide(wal.append(eventFor(5000)), nodeLayer),
            BigInt(replayed.length + 1)
          )
        }).pipe(Effect.scoped, Effect.provide(faultyLayer(plan)))
      }
    )
  }
})

describe("several batches in flight", () => {
  it.live("after a failed sync no later batch is acknowledged: the acknowledged appends are a prefix", () => {
    const plan = new FaultPlan().inject({ operation: "sync", pathEndsWith: ".seg", skip: 5, errno: "EIO" })
    return Effect.gen(function* () {
      const dir = yield* tempDir
      const [wal] = yield* WalHandle.open({ dir, batchMaxEvents: 10, groupCommit: "eager" })
      const exits = yield* Effect.forEach(eventsFor(2000), (e) => Effect.exit(wal.append(e)), {
        concurrency: "unbounded"
      })
      const acked = exits
        .filter(Exit.isSuccess)
        .map((exit) => exit.value)
        .sort((a, b) => Number(a - b))
      assert.isAtLeast(acked.length, 50)
      assert.isBelow(acked.length, 2000)
      // Contiguous from 1: nothing acknowledged past the failed batch.
      assert.deepStrictEqual(
        acked,
        Array.from({ length: acked.length }, (_, i) => BigInt(i + 1))
      )
      // The failed sync was the sixth; batches written behind it may share it (coalesced writes).
      assert.isAtLeast(plan.count("sync", ".seg"), 6)
    }).pipe(Effect.scoped, Effect.provide(faultyLayer(plan)))
  })
})
