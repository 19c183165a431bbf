/**
 * The parts of examples/ingest-service whose failures a SIGKILL test rarely or never reaches,
 * tested directly: the snapshot's durable-replace steps (a kill cannot undo a missing fsync, and
 * lands inside a write only by luck), the fold's exactly-once guard, and the retention lag.
 */
import { NodePath } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem, Layer, Option, Path } from "effect"
import {
  type AggregateState,
  applyEvent,
  emptyAggregateState
} from "../../examples/ingest-service/aggregates.ts"
import { makeRetentionClock } from "../../examples/ingest-service/retention.ts"
import { readSnapshot, serializeSnapshot, writeSnapshot } from "../../examples/ingest-service/snapshot.ts"
import { SignalType } from "../../src/index.ts"
import { FaultPlan, faultyFileSystemLayer } from "../support/FaultyFileSystem.ts"
import { tempDir } from "../support/wal.ts"

const HALF_LIFE_NANOS = 3_600_000_000_000n
const identity = { walId: "0123456789abcdef0123456789abcdef", halfLifeNanos: HALF_LIFE_NANOS }

/** A state after `count` events spread over three entities and an hour of event time. */
const stateAfter = (count: number): AggregateState => {
  const state = emptyAggregateState()
  for (let i = 1; i <= count; i++) {
    applyEvent(
      state,
      {
        seq: BigInt(i),
        entityId: BigInt(i % 3),
        signalType: i % 5,
        weight: Math.fround(i / 10),
        timestamp: 1_700_000_000_000_000_000n + BigInt((i * 7919) % 3600) * 1_000_000_000n
      },
      HALF_LIFE_NANOS
    )
  }
  return state
}

const withPlan = (plan: FaultPlan) => Layer.mergeAll(faultyFileSystemLayer(plan), NodePath.layer)

/** Writes the snapshot of `state` to `<dir>/aggregates.json`. */
const write = (dir: string, state: AggregateState) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    yield* writeSnapshot(fs, path, path.join(dir, "aggregates.json"), serializeSnapshot(state, identity))
  })

const read = (dir: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    return yield* readSnapshot(fs, `${dir}/aggregates.json`, identity)
  })

describe("ingest-service snapshot", () => {
  it.effect("round-trips exactly: bigints, counts and every bit of each score", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const state = stateAfter(500)
      yield* write(dir, state)
      assert.deepStrictEqual(yield* read(dir), Option.some(state))
    }).pipe(Effect.provide(withPlan(new FaultPlan())))
  )

  it.effect("is replaced durably: temp file written and synced, renamed, directory synced", () => {
    const plan = new FaultPlan()
    return Effect.gen(function* () {
      const dir = yield* tempDir
      yield* write(dir, stateAfter(3))
      const steps = plan.log
        .filter((call) => call.operation !== "open")
        .map((call) => `${call.operation} ${call.path.slice(dir.length) || "(dir)"}`)
      assert.deepStrictEqual(steps, [
        "write /aggregates.json.tmp",
        "sync /aggregates.json.tmp",
        "rename /aggregates.json",
        "sync (dir)"
      ])
    }).pipe(Effect.provide(withPlan(plan)))
  })

  for (const fault of [
    { operation: "write", tornAfterBytes: 40 },
    { operation: "sync", tornAfterBytes: undefined },
    { operation: "rename", tornAfterBytes: undefined }
  ] as const) {
    it.effect(`a ${fault.operation} that fails leaves the previous snapshot whole`, () => {
      const plan = new FaultPlan()
      return Effect.gen(function* () {
        const dir = yield* tempDir
        const previous = stateAfter(10)
        yield* write(dir, previous)
        // The next write of anything in `dir` fails, torn after 40 bytes for a write.
        plan.inject({ ...fault, pathEndsWith: "", skip: 0, errno: "EIO" })
        const failed = yield* Effect.flip(write(dir, stateAfter(20)))
        assert.strictEqual(failed._tag, "SnapshotError")
        assert.deepStrictEqual(yield* read(dir), Option.some(previous))
      }).pipe(Effect.provide(withPlan(plan)))
    })
  }

  it.effect("refuses a snapshot of another WAL or another half-life; none is not an error", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const fs = yield* FileSystem.FileSystem
      const file = `${dir}/aggregates.json`
      assert.isTrue(Option.isNone(yield* readSnapshot(fs, file, identity)))
      yield* write(dir, stateAfter(2))
      const otherWal = yield* Effect.flip(readSnapshot(fs, file, { ...identity, walId: "f".repeat(32) }))
      assert.match(otherWal.message, /belongs to WAL 0123/)
      const otherHalfLife = yield* Effect.flip(readSnapshot(fs, file, { ...identity, halfLifeNanos: 1n }))
      assert.match(otherHalfLife.message, /half-life of 3600000000000 ns, not 1 ns/)
    }).pipe(Effect.provide(withPlan(new FaultPlan())))
  )
})

describe("ingest-service aggregates", () => {
  const event = (seq: bigint) => ({
    seq,
    entityId: 7n,
    signalType: SignalType.like,
    weight: 2,
    timestamp: 1_700_000_000_000_000_000n
  })

  it("applies only the next seq: a repeat or a gap throws instead of counting wrong", () => {
    const state = stateAfter(4)
    assert.throws(() => applyEvent(state, event(4n), HALF_LIFE_NANOS), /got seq 4 after 4/)
    assert.throws(() => applyEvent(state, event(6n), HALF_LIFE_NANOS), /got seq 6 after 4/)
    assert.deepStrictEqual(state, stateAfter(4), "a refused event changes nothing")
    applyEvent(state, event(5n), HALF_LIFE_NANOS)
    assert.strictEqual(state.appliedSeq, 5n)
  })

  it("decays by event time: one half-life halves a score, a late event is added decayed", () => {
    const state = emptyAggregateState()
    applyEvent(state, event(1n), HALF_LIFE_NANOS)
    applyEvent(state, { ...event(2n), timestamp: event(2n).timestamp + HALF_LIFE_NANOS }, HALF_LIFE_NANOS)
    applyEvent(state, { ...event(3n), timestamp: event(3n).timestamp - HALF_LIFE_NANOS }, HALF_LIFE_NANOS)
    // 2·½ + 2 at t0 + 1h, then an event at t0 − 1h: 2·¼.
    assert.deepStrictEqual(state.entities.get(7n), {
      eventCount: 3,
      countsBySignal: { like: 3 },
      score: 3.5,
      scoreAtNanos: event(1n).timestamp + HALF_LIFE_NANOS
    })
  })
})

describe("ingest-service retention", () => {
  it("allows truncating before a checkpoint only once it is the lag old", () => {
    const retention = makeRetentionClock(1000)
    assert.strictEqual(retention.truncatableBefore(0), undefined)
    retention.recordCheckpoint(10n, 0)
    retention.recordCheckpoint(20n, 600)
    assert.strictEqual(retention.truncatableBefore(999), undefined)
    assert.strictEqual(retention.truncatableBefore(1000), 10n)
    assert.strictEqual(retention.truncatableBefore(1599), 10n)
    assert.strictEqual(retention.truncatableBefore(1600), 20n)
    assert.strictEqual(retention.truncatableBefore(5000), 20n)
  })
})
