/**
 * SPEC §3 "Append and group commit", on virtual time: a batch closes at `batchMaxEvents` or
 * `batchMaxWait` after its first event, and each batch costs exactly one sync.
 *
 * Method: a recording FileSystem counts writes and syncs on segment files; `TestClock` moves the
 * window's time, and between steps every fiber that can run, runs (`letFibersRun`) while virtual
 * time stands still. File calls are logged when they are made, so a batch started too early shows
 * at once (the first batch of a fresh WAL opens its segment before writing). Only where real disk I/O must finish before the next step (full batches being written
 * ahead of a partial one) does a test wait in real time, for the writes it expects (`untilReal`).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { WalHandle } from "../../src/index.ts"
import { FaultPlan } from "../support/FaultyFileSystem.ts"
import { eventFor, eventsFor, faultyLayer, letFibersRun, tempDir, untilReal } from "../support/wal.ts"

/** Whether any call touched a segment file: a batch on its way opens the segment first. */
const segmentTouched = (plan: FaultPlan) => plan.log.some((c) => c.path.endsWith(".seg"))

const segmentWrites = (plan: FaultPlan) =>
  plan.log.filter((c) => c.operation === "write" && c.path.endsWith(".seg")).map((c) => c.bytes)

describe("group commit", () => {
  it.effect("a lone append is written when batchMaxWait has passed, and not before", () => {
    const plan = new FaultPlan()
    return Effect.gen(function* () {
      const [wal] = yield* WalHandle.open({ dir: yield* tempDir })
      const append = yield* Effect.forkChild(wal.append(eventFor(1)))
      yield* letFibersRun
      yield* TestClock.adjust("9 millis")
      yield* letFibersRun
      assert.isUndefined(append.pollUnsafe())
      assert.isFalse(segmentTouched(plan), "a batch was started before the window passed")
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* Fiber.join(append), 1n)
      assert.deepStrictEqual(segmentWrites(plan), [64 + 21])
      assert.strictEqual(plan.count("sync", ".seg"), 1)
    }).pipe(Effect.provide(faultyLayer(plan)))
  })

  it.effect("100 concurrent appends make one batch, without waiting for the window", () => {
    const plan = new FaultPlan()
    return Effect.gen(function* () {
      const [wal] = yield* WalHandle.open({ dir: yield* tempDir })
      const seqs = yield* Effect.forEach(eventsFor(100), (e) => wal.append(e), { concurrency: "unbounded" })
      assert.deepStrictEqual(
        [...seqs].sort((a, b) => Number(a - b)),
        Array.from({ length: 100 }, (_, i) => BigInt(i + 1))
      )
      assert.deepStrictEqual(segmentWrites(plan), [64 + 100 * 21])
      assert.strictEqual(plan.count("sync", ".seg"), 1)
    }).pipe(Effect.provide(faultyLayer(plan)))
  })

  it.effect("250 concurrent appends make batches of 100, 100 and 50, one sync each", () => {
    const plan = new FaultPlan()
    return Effect.gen(function* () {
      const [wal] = yield* WalHandle.open({ dir: yield* tempDir })
      const all = yield* Effect.forkChild(
        Effect.forEach(eventsFor(250), (e) => wal.append(e), { concurrency: "unbounded" })
      )
      // The two full batches go to disk at once; the partial one waits for the window.
      yield* untilReal("two full batches written", () => segmentWrites(plan).length >= 2)
      yield* letFibersRun
      assert.deepStrictEqual(segmentWrites(plan), [64 + 2100, 64 + 2100])
      assert.isUndefined(all.pollUnsafe())
      yield* TestClock.adjust("10 millis")
      const seqs = yield* Fiber.join(all)
      assert.strictEqual(new Set(seqs).size, 250)
      assert.deepStrictEqual(segmentWrites(plan), [64 + 2100, 64 + 2100, 64 + 1050])
      assert.strictEqual(plan.count("sync", ".seg"), 3)
    }).pipe(Effect.provide(faultyLayer(plan)))
  })

  it.effect("the window starts at a batch's first event, not at the previous batch", () => {
    const plan = new FaultPlan()
    return Effect.gen(function* () {
      const [wal] = yield* WalHandle.open({ dir: yield* tempDir, batchMaxWait: "10 millis" })
      yield* TestClock.adjust("50 millis")
      const first = yield* Effect.forkChild(wal.append(eventFor(1)))
      yield* letFibersRun
      yield* TestClock.adjust("6 millis")
      const second = yield* Effect.forkChild(wal.append(eventFor(2)))
      yield* letFibersRun
      assert.isUndefined(first.pollUnsafe())
      yield* TestClock.adjust("3 millis")
      yield* letFibersRun
      assert.isFalse(segmentTouched(plan), "a batch was started before the first event's window passed")
      yield* TestClock.adjust("1 millis")
      assert.deepStrictEqual([yield* Fiber.join(first), yield* Fiber.join(second)], [1n, 2n])
      assert.deepStrictEqual(segmentWrites(plan), [64 + 42])
    }).pipe(Effect.provide(faultyLayer(plan)))
  })

  it.effect("the eager policy writes a lone append without waiting for the window", () => {
    const plan = new FaultPlan()
    return Effect.gen(function* () {
      const [wal] = yield* WalHandle.open({ dir: yield* tempDir, groupCommit: "eager" })
      assert.strictEqual(yield* wal.append(eventFor(1)), 1n)
      assert.strictEqual(yield* wal.append(eventFor(2)), 2n)
      assert.deepStrictEqual(segmentWrites(plan), [85, 85])
      assert.strictEqual(plan.count("sync", ".seg"), 2)
    }).pipe(Effect.provide(faultyLayer(plan)))
  })

  it.effect("appendAll of 250 events writes full batches at once and is acknowledged in order", () => {
    const plan = new FaultPlan()
    return Effect.gen(function* () {
      const [wal] = yield* WalHandle.open({ dir: yield* tempDir })
      const all = yield* Effect.forkChild(wal.appendAll(eventsFor(250)))
      yield* untilReal("two full batches written", () => segmentWrites(plan).length >= 2)
      yield* letFibersRun
      assert.deepStrictEqual(segmentWrites(plan), [64 + 2100, 64 + 2100])
      assert.isUndefined(all.pollUnsafe())
      yield* TestClock.adjust("10 millis")
      const seqs = yield* Fiber.join(all)
      assert.deepStrictEqual(
        seqs,
        Array.from({ length: 250 }, (_, i) => BigInt(i + 1))
      )
      assert.deepStrictEqual(segmentWrites(plan), [64 + 2100, 64 + 2100, 64 + 1050])
    }).pipe(Effect.provide(faultyLayer(plan)))
  })
})
