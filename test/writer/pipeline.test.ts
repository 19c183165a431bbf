/**
 * The in-flight pipeline (src/internal/writer/pipeline.ts, driven through batchWriter.ts) against
 * storage whose writes and syncs the test completes, fails or kills by hand, in a scope the test
 * owns: batches are acknowledged strictly in order and only once they and every batch before them
 * synced; a failed (or crashed) write or sync fails its batch and every later one with that error,
 * closes the WAL once and starts no later write; rotation creates the next segment only after
 * every sync of the last one; closing the scope interrupts the batches' I/O and leaves nothing
 * running.
 *
 * Method: each batch holds two appends; an append's answer is read from its completion slot. The
 * in-memory cases run on virtual time with fibers stepped by `yieldNow`; the rotation case uses
 * the real segment appender over the real disk, with its syncs held (heldSyncFileSystem.ts).
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, FileSystem, Path } from "effect"
import { IoError } from "../../src/index.ts"
import { segmentName } from "../../src/internal/format/segmentName.ts"
import { MAX_UNSYNCED_BATCHES } from "../../src/internal/segment/logRule.ts"
import { makeSegmentAppender } from "../../src/internal/segment/SegmentAppender.ts"
import { heldSyncFileSystem, SyncGate } from "../support/heldSyncFileSystem.ts"
import { readSegments } from "../support/segments.ts"
import { nodeLayer, tempDir } from "../support/wal.ts"
import {
  type Appender,
  type Harness,
  type HeldIo,
  letFibersRun,
  makeHarness,
  makeHeldAppender,
  type Outcome,
  runUntil
} from "./pipelineHarness.ts"

const EVENTS_PER_BATCH = 2
const BATCH_BYTES = 64 + EVENTS_PER_BATCH * 21

/** Batch `n` (from 1) acknowledged: its first append got the batch's first sequence number. */
const acked = (n: number): Outcome => ({ _tag: "Acked", seq: BigInt((n - 1) * EVENTS_PER_BATCH + 1) })
const pending: Outcome = { _tag: "Pending" }

const injected = (operation: "write" | "sync", batch: number) =>
  new IoError({ operation, path: `/held/batch-${batch}`, cause: new Error("EIO: injected") })

/** Stages `count` batches over the in-memory appender and completes every write, in order. */
const stagedAndWritten = (count: number) =>
  Effect.gen(function* () {
    const { appender, calls } = makeHeldAppender()
    const harness = yield* makeHarness({ appender, eventsPerBatch: EVENTS_PER_BATCH })
    for (let n = 0; n < count; n++) yield* harness.stageBatch
    yield* completeWrites(calls, count)
    return { harness, calls }
  })

/** Completes the first `count` writes one at a time: each next write starts only after the last. */
const completeWrites = (calls: Array<HeldIo>, count: number) =>
  Effect.gen(function* () {
    for (let n = 0; n < count; n++) {
      yield* runUntil(`write ${n + 1} started`, () => calls.length > n)
      yield* Deferred.succeed(heldAt(calls, n).write, undefined)
    }
    yield* letFibersRun
  })

const heldAt = (calls: Array<HeldIo>, index: number): HeldIo => {
  const io = calls[index]
  if (io === undefined) throw new Error(`batch ${index + 1} never reached the appender`)
  return io
}

/** Every permutation of 1..n. */
const permutations = (n: number): Array<Array<number>> => {
  if (n === 0) return [[]]
  return permutations(n - 1).flatMap((rest) =>
    Array.from({ length: n }, (_, at) => [...rest.slice(0, at), n, ...rest.slice(at)])
  )
}

describe("pipeline: acknowledgement order", () => {
  it.effect(
    "batch 3 syncs first, then 2, then 1: nothing is acknowledged until 1 is, then all in order",
    () =>
      Effect.gen(function* () {
        const { harness, calls } = yield* stagedAndWritten(3)
        assert.deepStrictEqual(harness.batchOutcomes(), [pending, pending, pending])
        yield* Deferred.succeed(heldAt(calls, 2).sync, undefined)
        yield* letFibersRun
        assert.deepStrictEqual(harness.batchOutcomes(), [pending, pending, pending])
        yield* Deferred.succeed(heldAt(calls, 1).sync, undefined)
        yield* letFibersRun
        assert.deepStrictEqual(harness.batchOutcomes(), [pending, pending, pending])
        yield* Deferred.succeed(heldAt(calls, 0).sync, undefined)
        yield* letFibersRun
        assert.deepStrictEqual(harness.batchOutcomes(), [acked(1), acked(2), acked(3)])
        // Answered in sequence order, and each batch marked durable once, in order.
        assert.deepStrictEqual(
          harness.answered.map((request) => request.exit?._tag === "Success" && request.exit.value),
          [1n, 2n, 3n, 4n, 5n, 6n]
        )
        assert.deepStrictEqual(harness.durable, [1n, 3n, 5n])
        assert.strictEqual(harness.lifecycle.lastDurableSeq, 6n)
      })
  )

  it.effect(
    "any order of 4 syncs: after each, exactly the batches whose predecessors all synced are acknowledged",
    () =>
      Effect.gen(function* () {
        for (const order of permutations(4)) {
          const { harness, calls } = yield* stagedAndWritten(4)
          const synced = new Set<number>()
          for (const batch of order) {
            yield* Deferred.succeed(heldAt(calls, batch - 1).sync, undefined)
            synced.add(batch)
            yield* letFibersRun
            let prefix = 0
            while (synced.has(prefix + 1)) prefix++
            assert.deepStrictEqual(
              harness.batchOutcomes(),
              [1, 2, 3, 4].map((n) => (n <= prefix ? acked(n) : pending)),
              `sync order ${order.join(",")}, after batch ${batch}`
            )
          }
          assert.deepStrictEqual(harness.durable, [1n, 3n, 5n, 7n], `sync order ${order.join(",")}`)
          yield* harness.close
        }
      })
  )

  it.effect(`a batch beyond ${MAX_UNSYNCED_BATCHES} in flight waits for the oldest to settle`, () =>
    Effect.gen(function* () {
      const { harness, calls } = yield* stagedAndWritten(MAX_UNSYNCED_BATCHES)
      const extra = yield* Effect.forkChild(harness.stageBatch)
      yield* letFibersRun
      assert.isUndefined(extra.pollUnsafe(), "staged with the pipeline full")
      yield* Deferred.succeed(heldAt(calls, 1).sync, undefined)
      yield* letFibersRun
      assert.isUndefined(extra.pollUnsafe(), "batch 2 settles only after batch 1")
      yield* Deferred.succeed(heldAt(calls, 0).sync, undefined)
      yield* Fiber.join(extra)
      yield* runUntil("the extra batch's write started", () => calls.length === MAX_UNSYNCED_BATCHES + 1)
    })
  )
})

describe("pipeline: failure of batch k of 8", () => {
  for (let k = 1; k <= 8; k++) {
    it.effect(
      `write ${k} fails: 1..${k - 1} acknowledged, ${k}..8 fail with its IoError, no later write starts`,
      () =>
        Effect.gen(function* () {
          const { appender, calls } = makeHeldAppender()
          const harness = yield* makeHarness({ appender, eventsPerBatch: EVENTS_PER_BATCH })
          for (let n = 0; n < 8; n++) yield* harness.stageBatch
          yield* completeWrites(calls, k - 1)
          yield* runUntil(`write ${k} started`, () => calls.length === k)
          const error = injected("write", k)
          yield* Deferred.fail(heldAt(calls, k - 1).write, error)
          yield* letFibersRun
          assert.deepStrictEqual(harness.failures, [error], "the WAL closes at the failed write")
          assert.strictEqual(calls.length, k, "a write started after a failed write")
          // The earlier batches' syncs complete after the failure: they are still acknowledged.
          for (let n = k - 2; n >= 0; n--) yield* Deferred.succeed(heldAt(calls, n).sync, undefined)
          yield* harness.writer.drain
          assertFailedFrom(harness, k, exactly(error))
        })
    )

    it.effect(`sync ${k} fails, every other sync succeeds: 1..${k - 1} acknowledged, ${k}..8 fail`, () =>
      Effect.gen(function* () {
        const { harness, calls } = yield* stagedAndWritten(8)
        const error = injected("sync", k)
        // Later syncs succeed first: their batches must still fail, behind batch k.
        for (let n = 7; n >= k; n--) yield* Deferred.succeed(heldAt(calls, n).sync, undefined)
        yield* Deferred.fail(heldAt(calls, k - 1).sync, error)
        for (let n = k - 2; n >= 0; n--) yield* Deferred.succeed(heldAt(calls, n).sync, undefined)
        yield* harness.writer.drain
        assertFailedFrom(harness, k, exactly(error))
      })
    )
  }

  it.effect(
    "a defect in a write closes like a failure: batch 3 and later fail with an IoError carrying it",
    () =>
      Effect.gen(function* () {
        const { appender, calls } = makeHeldAppender()
        const harness = yield* makeHarness({ appender, eventsPerBatch: EVENTS_PER_BATCH })
        for (let n = 0; n < 8; n++) yield* harness.stageBatch
        yield* completeWrites(calls, 2)
        yield* runUntil("write 3 started", () => calls.length === 3)
        const defect = new Error("a bug in the write path")
        yield* Deferred.die(heldAt(calls, 2).write, defect)
        yield* letFibersRun
        // At once, as for a failed write — not only once batches 1 and 2 settle: batch 3 may be
        // half on disk, and a batch written after it would follow a torn one mid-segment.
        assert.strictEqual(calls.length, 3, "a write started after a crashed write")
        assert.isTrue(harness.failures.some(reporting(defect)), "the WAL did not close at the crashed write")
        for (let n = 1; n >= 0; n--) yield* Deferred.succeed(heldAt(calls, n).sync, undefined)
        yield* harness.writer.drain
        assertFailedFrom(harness, 3, reporting(defect))
      })
  )

  it.effect(
    "a defect in a sync closes like a failure: batch 5 and later fail with an IoError carrying it",
    () =>
      Effect.gen(function* () {
        const { harness, calls } = yield* stagedAndWritten(8)
        const defect = new Error("a bug in the sync path")
        for (let n = 7; n >= 5; n--) yield* Deferred.succeed(heldAt(calls, n).sync, undefined)
        yield* Deferred.die(heldAt(calls, 4).sync, defect)
        for (let n = 3; n >= 0; n--) yield* Deferred.succeed(heldAt(calls, n).sync, undefined)
        yield* harness.writer.drain
        assertFailedFrom(harness, 5, reporting(defect))
      })
  )
})

/**
 * Batches before `k` acknowledged, `k` and every later one failed with the one error `isFailure`
 * accepts; the WAL moved to Failed exactly once, with that error, and `fail` was never told of
 * any other.
 */
const assertFailedFrom = (harness: Harness, k: number, isFailure: (error: unknown) => boolean) => {
  const outcomes = harness.batchOutcomes()
  assert.deepStrictEqual(
    outcomes.map((outcome) => outcome._tag),
    Array.from({ length: 8 }, (_, i) => (i + 1 < k ? "Acked" : "Failed"))
  )
  assert.deepStrictEqual(
    outcomes.slice(0, k - 1),
    Array.from({ length: k - 1 }, (_, i) => acked(i + 1))
  )
  for (const outcome of outcomes.slice(k - 1)) {
    assert.isTrue(
      outcome._tag === "Failed" && isFailure(outcome.error),
      `failed with ${JSON.stringify(outcome)}`
    )
  }
  assert.strictEqual(harness.failures.length, 1, "the WAL closed once")
  assert.isTrue(isFailure(harness.failures[0]))
  assert.isTrue(harness.failCalls.every(isFailure), "fail was only ever told of the first error")
  assert.strictEqual(harness.lifecycle.phase._tag, "Failed")
  assert.strictEqual(harness.lifecycle.lastDurableSeq, BigInt((k - 1) * EVENTS_PER_BATCH))
}

/** The very error (not a copy). */
const exactly = (expected: unknown) => (error: unknown) => error === expected

/** An IoError reporting `defect`: a crash in the I/O path is answered as a failed write. */
const reporting = (defect: Error) => (error: unknown) => error instanceof IoError && error.cause === defect

describe("pipeline: closing its scope", () => {
  it.effect(
    "with batches in flight, the scope closes: their I/O is interrupted, their callers are failed, nothing runs after",
    () =>
      Effect.gen(function* () {
        const { appender, calls } = makeHeldAppender()
        const harness = yield* makeHarness({ appender, eventsPerBatch: EVENTS_PER_BATCH })
        for (let n = 0; n < 3; n++) yield* harness.stageBatch
        // Batch 1 waits on its sync, batch 2 on its write, batch 3 on batch 2's write.
        yield* completeWrites(calls, 1)
        yield* runUntil("write 2 started", () => calls.length === 2)
        yield* harness.close
        assert.isTrue(heldAt(calls, 0).interrupted, "batch 1's sync was interrupted")
        assert.isTrue(heldAt(calls, 1).interrupted, "batch 2's write was interrupted")
        // Were any batch fiber still alive, completing the I/O would move it on: nothing moves.
        for (const io of calls) {
          yield* Deferred.succeed(io.write, undefined)
          yield* Deferred.succeed(io.sync, undefined)
        }
        yield* letFibersRun
        assert.strictEqual(calls.length, 2, "batch 3 wrote after the scope closed")
        assert.deepStrictEqual(harness.durable, [])
        // Interrupted, not synced: never acknowledged, and never left waiting either.
        assert.deepStrictEqual(
          harness.batchOutcomes().map((outcome) => outcome._tag),
          ["Failed", "Failed", "Failed"]
        )
      })
  )
})

describe("pipeline: coalesced writes", () => {
  /** Batch 1 is written alone; batches 2–4, launched while its write is held, are one write. */
  const coalesced = Effect.gen(function* () {
    const { appender, calls } = makeHeldAppender()
    const harness = yield* makeHarness({
      appender,
      eventsPerBatch: EVENTS_PER_BATCH,
      coalesceRoomBytes: () => Number.MAX_SAFE_INTEGER
    })
    for (let n = 0; n < 4; n++) yield* harness.stageBatch
    yield* completeWrites(calls, 2)
    assert.strictEqual(calls.length, 2, "batches 2–4 were not written together")
    assert.strictEqual(heldAt(calls, 1).firstSeq, BigInt(EVENTS_PER_BATCH + 1), "the group starts at batch 2")
    return { harness, calls }
  })

  it.effect("one sync for the group acknowledges every batch in it, in order", () =>
    Effect.gen(function* () {
      const { harness, calls } = yield* coalesced
      yield* Deferred.succeed(heldAt(calls, 1).sync, undefined)
      yield* letFibersRun
      assert.deepStrictEqual(
        harness.batchOutcomes(),
        [pending, pending, pending, pending],
        "acked before batch 1 synced"
      )
      yield* Deferred.succeed(heldAt(calls, 0).sync, undefined)
      yield* letFibersRun
      assert.deepStrictEqual(harness.batchOutcomes(), [acked(1), acked(2), acked(3), acked(4)])
    })
  )

  it.effect("a failed sync of the group fails every batch in it; the one before stays acknowledged", () =>
    Effect.gen(function* () {
      const { harness, calls } = yield* coalesced
      yield* Deferred.succeed(heldAt(calls, 0).sync, undefined)
      yield* Deferred.fail(heldAt(calls, 1).sync, injected("sync", 2))
      yield* letFibersRun
      assert.deepStrictEqual(
        harness.batchOutcomes().map((outcome) => outcome._tag),
        ["Acked", "Failed", "Failed", "Failed"]
      )
    })
  )
})

describe("pipeline: after its scope closed", () => {
  it.effect("a batch launched then never writes, and its callers are answered (no one waits)", () =>
    Effect.gen(function* () {
      const { appender, calls } = makeHeldAppender()
      const harness = yield* makeHarness({ appender, eventsPerBatch: EVENTS_PER_BATCH })
      yield* harness.close
      yield* harness.stageBatch
      yield* letFibersRun
      assert.strictEqual(calls.length, 0, "a batch wrote after the scope closed")
      const [outcome] = harness.batchOutcomes()
      assert.strictEqual(outcome?._tag, "Failed", "the batch's callers were left waiting")
    })
  )

  it.effect("behind a batch interrupted in flight, a batch launched later is answered too", () =>
    Effect.gen(function* () {
      const { appender, calls } = makeHeldAppender()
      const harness = yield* makeHarness({ appender, eventsPerBatch: EVENTS_PER_BATCH })
      yield* harness.stageBatch
      yield* runUntil("write 1 started", () => calls.length === 1)
      yield* harness.close
      yield* harness.stageBatch
      yield* letFibersRun
      assert.strictEqual(calls.length, 1, "a batch wrote after the scope closed")
      assert.deepStrictEqual(
        harness.batchOutcomes().map((outcome) => outcome._tag),
        ["Failed", "Failed"]
      )
    })
  )
})

describe("pipeline: rotation in the middle of the pipeline (real appender, real disk)", () => {
  it.live("the next segment is created only after every sync of the previous one completed", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const gate = new SyncGate((path) => path.endsWith(".seg"))
      const fs = heldSyncFileSystem(yield* FileSystem.FileSystem, gate)
      // Three batches fill a segment: batches 4..6 (first seqs 7, 9, 11) rotate into a second.
      const real = makeSegmentAppender(fs, yield* Path.Path, dir, 3 * BATCH_BYTES, [])
      const appender: Appender = {
        writeBatch: (batch, firstSeq, lastSeq) =>
          Effect.suspend(() => {
            gate.record(`writeBatch ${firstSeq}`)
            return real.writeBatch(batch, firstSeq, lastSeq)
          })
      }
      const harness = yield* makeHarness({ appender, eventsPerBatch: EVENTS_PER_BATCH })
      const first = segmentName(1n)
      const second = segmentName(7n)
      const secondCreated = () => gate.trace.some((line) => line.startsWith(`open ${second}`))
      for (let n = 0; n < 6; n++) yield* harness.stageBatch
      // All three writes of the first segment went out while its syncs are held; batch 4 is at
      // the appender, waiting for them.
      yield* gate.waitUntil(() => gate.count(`sync ${first}`) === 3 && gate.count("writeBatch 7") === 1)
      yield* letFibersRun
      assert.isFalse(secondCreated(), "the next segment was created with syncs pending")
      for (const [released, index] of [2, 0].entries()) {
        yield* gate.release(index)
        yield* gate.waitUntil(() => gate.count(`synced ${first}`) === released + 1)
        yield* letFibersRun
        assert.isFalse(secondCreated(), `created after ${released + 1} of 3 syncs`)
      }
      assert.deepStrictEqual(harness.batchOutcomes(), [acked(1), pending, pending, pending, pending, pending])
      yield* gate.release(1)
      yield* gate.waitUntil(() => gate.count(`sync ${second}`) === 3)
      const lastSynced = gate.trace.lastIndexOf(`synced ${first}`)
      const created = gate.trace.findIndex((line) => line.startsWith(`open ${second}`))
      assert.isAbove(created, lastSynced, gate.trace.join("\n"))
      assert.strictEqual(gate.trace[created], `open ${second} wx`)
      for (const index of [5, 3, 4]) yield* gate.release(index)
      yield* harness.writer.drain
      assert.deepStrictEqual(harness.batchOutcomes(), [1, 2, 3, 4, 5, 6].map(acked))
      const { segments, events } = yield* readSegments(dir)
      assert.deepStrictEqual(
        segments.map((segment) => [segment.name, segment.batchFirstSeqs]),
        [
          [first, [1n, 3n, 5n]],
          [second, [7n, 9n, 11n]]
        ]
      )
      assert.strictEqual(events.length, 12)
      yield* real.close
      yield* harness.close
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})
