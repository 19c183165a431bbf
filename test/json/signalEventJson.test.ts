/**
 * Issue #14 item 4: events in and out as JSON. Round trips through `JSON.stringify`/`JSON.parse`
 * are exact for every event (fast-check); u64 fields are decimal strings, signal types names or
 * numbers; every malformed value — past u64, negative, fractional, exponent, leading zeros, NaN,
 * a number too large to be exact — is a typed failure naming the field, never a wrong value.
 *
 * The seed is random and printed; rerun one with JSON_SEED=<seed>.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Schema } from "effect"
import fc from "fast-check"
import {
  decodeSignalEventJson,
  InvalidEventError,
  type ReplayedEvent,
  ReplayedEventFromJson,
  ReplayedEventToJson,
  type SignalEvent,
  SignalEventFromJson,
  SignalType,
  WalHandle
} from "../../src/index.ts"
import { arbitraryEvent, u64 } from "../support/arbitrary.ts"
import { nodeLayer, stored, tempDir } from "../support/wal.ts"

const SEED = Number(process.env.JSON_SEED ?? Math.floor(Math.random() * 2 ** 31))
console.log(`json seed: ${SEED} (rerun with JSON_SEED=${SEED})`)

const U64_MAX = 2n ** 64n - 1n
const arbitraryReplayed: fc.Arbitrary<ReplayedEvent> = fc
  .tuple(arbitraryEvent, u64)
  .map(([event, seq]) => ({ seq, ...event }))

/** JSON text has no negative zero: `JSON.stringify(-0)` is "0". Everything else is exact. */
const withoutNegativeZero = <E extends SignalEvent>(event: E): E =>
  Object.is(event.weight, -0) ? { ...event, weight: 0 } : event

/** Through the text a client would send: encode, stringify, parse, decode. */
const throughText = <S extends Schema.Codec<unknown, unknown>>(schema: S, value: S["Type"]): unknown =>
  Schema.decodeUnknownSync(schema)(JSON.parse(JSON.stringify(Schema.encodeSync(schema)(value))))

const valid = { entityId: "42", signalType: "like", weight: 1.5, timestamp: "1700000000000000000" }

describe("events as JSON", () => {
  it("SignalEvent and ReplayedEvent survive JSON text exactly, for any event", () => {
    fc.assert(
      fc.property(arbitraryEvent, arbitraryReplayed, (event, replayed) => {
        assert.deepStrictEqual(throughText(SignalEventFromJson, event), withoutNegativeZero(event))
        assert.deepStrictEqual(throughText(ReplayedEventFromJson, replayed), withoutNegativeZero(replayed))
        const json = Schema.decodeSync(ReplayedEventToJson)(replayed)
        assert.deepStrictEqual(json, Schema.encodeSync(ReplayedEventFromJson)(replayed))
        assert.strictEqual(json.seq, String(replayed.seq))
        assert.strictEqual(json.entityId, String(replayed.entityId))
      }),
      { numRuns: 1000, seed: SEED }
    )
  })

  it("writes u64 fields as decimal strings and the known signal types as names", () => {
    const replayed: ReplayedEvent = {
      seq: U64_MAX,
      entityId: 0n,
      signalType: SignalType.completion,
      weight: -2.5,
      timestamp: 1_700_000_000_000_000_001n
    }
    assert.strictEqual(
      JSON.stringify(Schema.encodeSync(ReplayedEventFromJson)(replayed)),
      '{"seq":"18446744073709551615","entityId":"0","signalType":"completion","weight":-2.5,"timestamp":"1700000000000000001"}'
    )
    const unnamed = Schema.encodeSync(SignalEventFromJson)({ ...replayed, signalType: 200 })
    assert.strictEqual(unnamed.signalType, 200)
  })

  it("reads signal types by name or number, and u64 fields from safe integers too", () => {
    const decode = Schema.decodeUnknownSync(SignalEventFromJson)
    const expected: SignalEvent = {
      entityId: 42n,
      signalType: 1,
      weight: 1.5,
      timestamp: 1_700_000_000_000_000_000n
    }
    assert.deepStrictEqual(decode(valid), expected)
    assert.deepStrictEqual(decode({ ...valid, signalType: 1 }), expected)
    assert.deepStrictEqual(decode({ ...valid, entityId: 42 }), expected)
    for (const [name, code] of Object.entries(SignalType)) {
      assert.strictEqual(decode({ ...valid, signalType: name }).signalType, code)
    }
    assert.strictEqual(decode({ ...valid, timestamp: Number.MAX_SAFE_INTEGER }).timestamp, 2n ** 53n - 1n)
    assert.strictEqual(decode({ ...valid, entityId: "18446744073709551615" }).entityId, U64_MAX)
    assert.strictEqual(decode({ ...valid, entityId: "0" }).entityId, 0n)
    // Keys other than the fields are ignored, as Schema does by default.
    assert.deepStrictEqual(decode({ ...valid, source: "web" }), expected)
  })

  it.effect("malformed values are InvalidEventError naming the field and the value", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [string, unknown, string]> = [
        ["entityId", "18446744073709551616", '"18446744073709551616"'],
        ["entityId", "99999999999999999999999", '"99999999999999999999999"'],
        ["entityId", "-1", '"-1"'],
        ["entityId", -1, "-1"],
        ["entityId", "1.5", '"1.5"'],
        ["entityId", 1.5, "1.5"],
        ["entityId", "1e3", '"1e3"'],
        ["entityId", "007", '"007"'],
        ["entityId", "+7", '"+7"'],
        ["entityId", " 7", '" 7"'],
        ["entityId", "", '""'],
        ["entityId", "0x10", '"0x10"'],
        ["entityId", "NaN", '"NaN"'],
        ["entityId", Number.NaN, "NaN"],
        ["entityId", 2 ** 53, "9007199254740992"],
        ["entityId", 1e21, "1e+21"],
        ["timestamp", null, "null"],
        ["timestamp", undefined, "undefined"],
        ["signalType", "dislike", '"dislike"'],
        ["signalType", 256, "256"],
        ["signalType", -1, "-1"],
        ["signalType", 1.5, "1.5"],
        ["signalType", "1", '"1"'],
        ["weight", "1.5", '"1.5"'],
        ["weight", 3.5e38, "3.5e+38"]
      ]
      for (const [field, value, shown] of cases) {
        const error = yield* Effect.flip(decodeSignalEventJson({ ...valid, [field]: value }))
        assert.instanceOf(error, InvalidEventError)
        assert.strictEqual(error.field, field, `${field} = ${shown}`)
        assert.strictEqual(error.value, shown)
        // The Schema alone gives a typed failure too, never a defect.
        const exit = Schema.decodeUnknownExit(SignalEventFromJson)({ ...valid, [field]: value })
        assert.isTrue(Exit.isFailure(exit), `${field} = ${shown}`)
      }
      const notAnObject = yield* Effect.flip(decodeSignalEventJson("42"))
      assert.strictEqual(notAnObject.field, "(root)")
    })
  )

  it.live("a decoded event appends, and the replayed one encodes to the same JSON with weight as f32", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const event = yield* decodeSignalEventJson({ ...valid, weight: 0.1 })
      yield* Effect.scoped(
        Effect.flatMap(WalHandle.open({ dir, groupCommit: "eager" }), ([wal]) => wal.append(event))
      )
      const [, replayed] = yield* WalHandle.open({ dir })
      const first = replayed.at(0)
      assert.isDefined(first)
      if (first === undefined) return
      assert.deepStrictEqual(Schema.encodeSync(ReplayedEventFromJson)(first), {
        seq: "1",
        entityId: "42",
        signalType: "like",
        weight: 0.10000000149011612,
        timestamp: "1700000000000000000"
      })
      assert.deepStrictEqual({ ...first }, { seq: 1n, ...stored(event) })
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})
