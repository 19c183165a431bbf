/**
 * SPEC §1: every field of `SignalEvent` is validated at the API boundary, and a bad one is an
 * `InvalidEventError` naming the field and value, with nothing written.
 */

import { deepStrictEqual } from "node:assert"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import fc from "fast-check"
import {
  InvalidEventError,
  isSignalEvent,
  SignalEvent,
  SignalType,
  validateSignalEvent,
  WalHandle
} from "../src/index.ts"
import { captureSignalEvent } from "../src/SignalEvent.ts"
import { eventFor, nodeLayer, snapshotDir, tempDir } from "./support/wal.ts"

const good = {
  entityId: 42n,
  signalType: SignalType.like,
  weight: 0.5,
  timestamp: 1_700_000_000_000_000_000n
}

const invalidCases: ReadonlyArray<readonly [string, unknown, string]> = [
  ["entityId", -1n, "-1n"],
  ["entityId", 2n ** 64n, "18446744073709551616n"],
  ["entityId", 42, "42"],
  ["entityId", "42", '"42"'],
  ["signalType", 256, "256"],
  ["signalType", -1, "-1"],
  ["signalType", 1.5, "1.5"],
  ["signalType", 1n, "1n"],
  ["weight", Number.NaN, "NaN"],
  ["weight", Number.POSITIVE_INFINITY, "Infinity"],
  ["weight", 3.5e38, "3.5e+38"],
  ["weight", "0.5", '"0.5"'],
  ["timestamp", -5n, "-5n"],
  ["timestamp", 1_700_000_000_000, "1700000000000"],
  ["timestamp", undefined, "undefined"]
]

describe("SignalEvent validation", () => {
  it.effect("validateSignalEvent succeeds with a plain object copy, whatever the input's prototype", () =>
    Effect.gen(function* () {
      class Event {
        entityId = good.entityId
        signalType = good.signalType
        weight = good.weight
        timestamp = good.timestamp
      }
      const validated = yield* validateSignalEvent(new Event())
      assert.strictEqual(Object.getPrototypeOf(validated), Object.prototype)
      // node:assert compares prototypes, unlike chai's deep equality.
      deepStrictEqual(validated, good)
    })
  )

  it("named signal types", () => {
    assert.deepStrictEqual(SignalType, { view: 0, like: 1, skip: 2, completion: 3 })
  })

  it.live("each invalid field gives InvalidEventError naming it, and the directory is unchanged", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const [wal] = yield* WalHandle.open({ dir })
      yield* wal.append(eventFor(1))
      const before = yield* snapshotDir(dir)
      for (const [field, value, shown] of invalidCases) {
        const error = yield* Effect.flip(wal.append({ ...good, [field]: value } as SignalEvent))
        assert.instanceOf(error, InvalidEventError)
        assert.strictEqual(error._tag, "InvalidEventError")
        if (error._tag !== "InvalidEventError") continue
        assert.strictEqual(error.field, field)
        assert.strictEqual(error.value, shown)
        assert.include(error.message, field)
        assert.include(error.message, shown)
      }
      const batchError = yield* Effect.flip(wal.appendAll([good, { ...good, weight: Number.NaN }]))
      assert.strictEqual(batchError._tag, "InvalidEventError")
      if (batchError._tag === "InvalidEventError") assert.strictEqual(batchError.field, "events[1].weight")
      const notAnObject = yield* Effect.flip(wal.append(null as unknown as SignalEvent))
      assert.strictEqual(notAnObject._tag, "InvalidEventError")
      assert.deepStrictEqual(yield* snapshotDir(dir), before)
      assert.strictEqual(yield* wal.nextSeq, 2n)
    }).pipe(Effect.provide(nodeLayer))
  )

  it("the fast predicate and the capture used on append accept exactly what the Schema accepts", () => {
    const seed = Math.floor(Math.random() * 2 ** 31)
    console.log(`signalEvent property seed: ${seed}`)
    const is = Schema.is(SignalEvent)
    const anyValue = fc.oneof(
      fc.bigInt({ min: -(2n ** 65n), max: 2n ** 65n }),
      fc.integer({ min: -300, max: 300 }),
      fc.double(),
      fc.constantFrom(
        Number.NaN,
        Number.POSITIVE_INFINITY,
        3.4028234663852886e38,
        3.4028235e38,
        undefined,
        null,
        "1"
      )
    )
    fc.assert(
      fc.property(
        fc.record({ entityId: anyValue, signalType: anyValue, weight: anyValue, timestamp: anyValue }),
        (candidate) => {
          assert.strictEqual(isSignalEvent(candidate), is(candidate))
          const captured = captureSignalEvent(candidate)
          assert.strictEqual(!(captured instanceof InvalidEventError), is(candidate))
          // An accepted event is copied: the caller's object is never the one queued.
          if (!(captured instanceof InvalidEventError)) {
            assert.notStrictEqual(captured, candidate)
            assert.deepStrictEqual(captured, candidate)
          }
        }
      ),
      { numRuns: 5000, seed }
    )
  })
})
