/**
 * SPEC §3 "Deduplication" through the WAL, on virtual time: a repeat inside the window is
 * acknowledged with 0n and not written; after the key has aged out of both buffers the event is
 * written again; a failed batch's events are not remembered; a key survives a restart.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit } from "effect"
import { TestClock } from "effect/testing"
import fc from "fast-check"
import { ClosedError, IoError, type WalConfigInput, WalHandle } from "../../src/index.ts"
import { FaultPlan } from "../support/FaultyFileSystem.ts"
import { eventFor, faultyLayer, nodeLayer, tempDir } from "../support/wal.ts"

const eager = (dir: string): WalConfigInput => ({ dir, groupCommit: "eager", dedupWindow: "30 seconds" })

describe("dedup window", () => {
  it.effect("a repeat at 0 s and at 29 s gives 0n; rotation boundaries are exact", () =>
    Effect.gen(function* () {
      const [wal] = yield* WalHandle.open(eager(yield* tempDir))
      const e = eventFor(1)
      assert.strictEqual(yield* wal.append(e), 1n)
      assert.strictEqual(yield* wal.append(e), 0n)
      yield* TestClock.adjust("29 seconds")
      assert.strictEqual(yield* wal.append(e), 0n)
      // 30 s: the first window ends, the key moves to the previous buffer: still a duplicate.
      yield* TestClock.adjust("1 seconds")
      assert.strictEqual(yield* wal.append(e), 0n)
      // Just before 60 s the key is still in the previous buffer.
      yield* TestClock.adjust("29999 millis")
      assert.strictEqual(yield* wal.append(e), 0n)
      // At 60 s exactly it has aged out of both buffers: written again.
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* wal.append(e), 2n)
      assert.strictEqual(yield* wal.append(e), 0n)
    }).pipe(Effect.provide(nodeLayer))
  )

  it.effect("a second identical event in one batch is a duplicate", () =>
    Effect.gen(function* () {
      const [wal] = yield* WalHandle.open(eager(yield* tempDir))
      const seqs = yield* wal.appendAll([eventFor(1), eventFor(2), eventFor(1), eventFor(3), eventFor(2)])
      assert.deepStrictEqual(seqs, [1n, 2n, 0n, 3n, 0n])
      assert.strictEqual(yield* wal.nextSeq, 4n)
    }).pipe(Effect.provide(nodeLayer))
  )

  it.live(
    "a repeat of an event whose batch is still in flight is a duplicate, answered only after that batch",
    () => {
      // Slow syncs keep eight batches of ten in flight; each event's copy is queued three
      // batches after it, while the original's batch is still on its way to disk.
      const plan = new FaultPlan().withSlowSync(".seg", 10)
      const unique = 400
      const lag = 30
      const queued: Array<{ readonly id: number; readonly copy: boolean }> = []
      for (let i = 0; i < unique + lag; i++) {
        if (i < unique) queued.push({ id: i, copy: false })
        if (i >= lag) queued.push({ id: i - lag, copy: true })
      }
      return Effect.gen(function* () {
        const dir = yield* tempDir
        const [wal] = yield* WalHandle.open({ dir, groupCommit: "eager", batchMaxEvents: 10 })
        let completed = 0
        const results = yield* Effect.forEach(
          queued,
          ({ id }) => Effect.map(wal.append(eventFor(id)), (seq) => ({ seq, order: completed++ })),
          { concurrency: "unbounded" }
        )
        const original = new Map<number, { seq: bigint; order: number }>()
        const copy = new Map<number, { seq: bigint; order: number }>()
        for (let i = 0; i < queued.length; i++) {
          const entry = queued[i]
          const result = results[i]
          if (entry !== undefined && result !== undefined)
            (entry.copy ? copy : original).set(entry.id, result)
        }
        const seqs = [...original.values()].map((r) => r.seq).sort((a, b) => Number(a - b))
        assert.deepStrictEqual(
          seqs,
          Array.from({ length: unique }, (_, i) => BigInt(i + 1))
        )
        for (let id = 0; id < unique; id++) {
          const first = original.get(id)
          const repeat = copy.get(id)
          assert.strictEqual(repeat?.seq, 0n, `copy of event ${id}`)
          assert.isAbove(repeat?.order ?? -1, first?.order ?? Number.MAX_SAFE_INTEGER, `copy of event ${id}`)
        }
        yield* wal.shutdown
        const [, replayed] = yield* WalHandle.open({ dir }).pipe(Effect.provide(nodeLayer))
        assert.strictEqual(replayed.length, unique)
      }).pipe(Effect.scoped, Effect.provide(faultyLayer(plan)))
    }
  )

  it.effect("events of a failed batch are not remembered: a retry after reopen is written", () => {
    const plan = new FaultPlan().inject({ operation: "sync", pathEndsWith: ".seg", skip: 1, errno: "EIO" })
    return Effect.gen(function* () {
      const dir = yield* tempDir
      const [wal] = yield* WalHandle.open(eager(dir))
      assert.strictEqual(yield* wal.append(eventFor(1)), 1n)
      const failed = yield* Effect.exit(wal.appendAll([eventFor(2), eventFor(2)]))
      assert.isTrue(Exit.isFailure(failed))
      const error = yield* Effect.flip(wal.append(eventFor(2)))
      assert.instanceOf(error, ClosedError)
      yield* wal.shutdown
      // Reopen on the same (virtual) instant: the failed batch's bytes reached the file before
      // the failed sync, so recovery may find them — what matters is that a retry is never lost.
      const [reopened, replayed] = yield* WalHandle.open(eager(dir)).pipe(Effect.provide(nodeLayer))
      const retried = yield* reopened.append(eventFor(2))
      const present = [...replayed].some((r) => r.entityId === eventFor(2).entityId)
      assert.isTrue(present ? retried === 0n : retried > 0n, `present=${present} retried=${retried}`)
    }).pipe(Effect.provide(faultyLayer(plan)))
  })

  it.effect(
    "a retry after a batch that failed before reaching the file is written, not taken for a duplicate",
    () => {
      const plan = new FaultPlan().inject({ operation: "write", pathEndsWith: ".seg", skip: 1, errno: "EIO" })
      return Effect.gen(function* () {
        const dir = yield* tempDir
        const [wal] = yield* WalHandle.open(eager(dir))
        assert.strictEqual(yield* wal.append(eventFor(1)), 1n)
        const error = yield* Effect.flip(wal.append(eventFor(2)))
        assert.instanceOf(error, IoError)
        yield* wal.shutdown
        const [reopened] = yield* WalHandle.open(eager(dir)).pipe(Effect.provide(nodeLayer))
        assert.strictEqual(yield* reopened.append(eventFor(2)), 2n)
        assert.strictEqual(yield* reopened.append(eventFor(1)), 0n)
      }).pipe(Effect.provide(faultyLayer(plan)))
    }
  )

  it.effect("the window is seeded on open from batches stamped within the last dedupWindow", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* Effect.scoped(
        Effect.gen(function* () {
          const [wal] = yield* WalHandle.open(eager(dir))
          yield* wal.append(eventFor(1))
          yield* TestClock.adjust("20 seconds")
          yield* wal.append(eventFor(2))
        })
      )
      yield* TestClock.adjust("15 seconds")
      // Now = 35 s: batch 1 (0 s) is older than the window, batch 2 (20 s) is within it.
      const [wal] = yield* WalHandle.open(eager(dir))
      assert.strictEqual(yield* wal.append(eventFor(2)), 0n)
      assert.strictEqual(yield* wal.append(eventFor(1)), 3n)
    }).pipe(Effect.provide(nodeLayer))
  )

  it.effect(
    "random streams with repeats and clock steps produce exactly the writes of a reference model",
    () =>
      Effect.gen(function* () {
        const windowMillis = 1000
        const step = fc.record({
          event: fc.integer({ min: 0, max: 15 }),
          advanceMillis: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2500 }))
        })
        const runs = fc.sample(fc.array(step, { minLength: 1, maxLength: 60 }), { numRuns: 25, seed: 424242 })
        for (const steps of runs) {
          yield* Effect.scoped(
            Effect.gen(function* () {
              const startMillis = yield* TestClockMillis
              const [wal] = yield* WalHandle.open({
                ...eager(yield* tempDir),
                dedupWindow: Duration.millis(windowMillis)
              })
              // Reference: a key remembered in window period p is a duplicate through period p + 1.
              const rememberedIn = new Map<number, number>()
              let nextSeq = 1n
              for (const { event, advanceMillis } of steps) {
                yield* TestClock.adjust(`${advanceMillis} millis`)
                const period = Math.floor(((yield* TestClockMillis) - startMillis) / windowMillis)
                const seen = rememberedIn.get(event)
                const duplicate = seen !== undefined && period - seen <= 1
                const expected = duplicate ? 0n : nextSeq++
                if (!duplicate) rememberedIn.set(event, period)
                assert.strictEqual(yield* wal.append(eventFor(event)), expected)
              }
            })
          )
        }
      }).pipe(Effect.provide(nodeLayer))
  )
})

const TestClockMillis = Effect.clockWith((clock) => Effect.succeed(clock.currentTimeMillisUnsafe()))

describe("dedupWindow 0", () => {
  it.live("turns deduplication off: a repeated event is written again, and nothing is remembered", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const seqs = yield* Effect.scoped(
        Effect.flatMap(WalHandle.open({ dir, dedupWindow: 0, groupCommit: "eager" }), ([wal]) =>
          Effect.all([
            wal.append(eventFor(1)),
            wal.append(eventFor(1)),
            wal.appendAll([eventFor(2), eventFor(2)])
          ])
        )
      )
      assert.deepStrictEqual(seqs, [1n, 2n, [3n, 4n]])
    }).pipe(Effect.provide(nodeLayer))
  )
})
