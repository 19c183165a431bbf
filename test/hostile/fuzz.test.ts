/**
 * Issue #12 A and B, randomized: events, event lists, configs and sequence numbers built from
 * hostile parts — values of every type, u64 edges, NaN, Proxies, throwing getters, frozen and
 * inherited objects — never produce a defect. Each event is accepted exactly when its fields are
 * valid, and what reopen replays is exactly the accepted events.
 *
 * The seed is random and printed; rerun one with HOSTILE_SEED=<seed>.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Schema } from "effect"
import fc from "fast-check"
import { decodeWalConfig, SignalEvent, WalHandle } from "../../src/index.ts"
import { nodeLayer, plainEvent, stored, tempDir } from "../support/wal.ts"
import { revokedProxy, throwingProxy, withThrowingGetter } from "./support.ts"

const SEED = Number(process.env.HOSTILE_SEED ?? Math.floor(Math.random() * 2 ** 31))
console.log(`hostile fuzz seed: ${SEED} (rerun with HOSTILE_SEED=${SEED})`)

const isValidEvent = Schema.is(SignalEvent)

/** Values for one field: mostly plausible, often wrong in type or range, sometimes hostile. */
const fieldValue = fc.oneof(
  { weight: 4, arbitrary: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) },
  { weight: 2, arbitrary: fc.constantFrom(-1n, 2n ** 64n, 2n ** 64n - 1n, 0n) },
  { weight: 4, arbitrary: fc.integer({ min: -2, max: 300 }) },
  { weight: 3, arbitrary: fc.double() },
  {
    weight: 2,
    arbitrary: fc.constantFrom<unknown>(
      Number.NaN,
      Number.POSITIVE_INFINITY,
      3.4028235e38,
      "1",
      null,
      undefined,
      true,
      Symbol("v")
    )
  },
  { weight: 1, arbitrary: fc.constantFrom<unknown>("proxy", "revoked", "object") }
)

/** Hostile objects are made fresh per use: a revoked Proxy cannot be shared across runs. */
const materialize = (value: unknown): unknown => {
  if (value === "proxy") return throwingProxy()
  if (value === "revoked") return revokedProxy()
  if (value === "object") return { valueOf: () => 1n }
  return value
}

type Wrapper = "plain" | "frozen" | "inherited" | "proxy" | "throwing-getter" | "extra-keys"

interface EventCase {
  readonly fields: Record<"entityId" | "signalType" | "weight" | "timestamp", unknown>
  readonly wrapper: Wrapper
}

/** A valid event; `weight` an f32 so that what comes back is comparable. */
const validFields = fc.record({
  entityId: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  signalType: fc.integer({ min: 0, max: 255 }),
  weight: fc.float({ noNaN: true, noDefaultInfinity: true }),
  timestamp: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })
})

/** Half valid events, half events with any field from `fieldValue`, in every kind of wrapper. */
const eventCase: fc.Arbitrary<EventCase> = fc.record({
  fields: fc.oneof(
    validFields,
    fc.record({ entityId: fieldValue, signalType: fieldValue, weight: fieldValue, timestamp: fieldValue })
  ),
  wrapper: fc.constantFrom<Wrapper>(
    "plain",
    "plain",
    "frozen",
    "inherited",
    "proxy",
    "throwing-getter",
    "extra-keys"
  )
})

const build = ({ fields, wrapper }: EventCase): unknown => {
  const plain = {
    entityId: materialize(fields.entityId),
    signalType: materialize(fields.signalType),
    weight: materialize(fields.weight),
    timestamp: materialize(fields.timestamp)
  }
  switch (wrapper) {
    case "plain":
      return plain
    case "frozen":
      return Object.freeze(plain)
    case "inherited":
      return Object.create(plain)
    case "proxy":
      return new Proxy(plain, {})
    case "throwing-getter":
      return withThrowingGetter(plain, "weight")
    case "extra-keys":
      return { ...plain, extra: throwingProxy() }
  }
}

/** Whether the event the case builds is valid: the oracle is the Schema, on the values as given. */
const expectValid = ({ fields, wrapper }: EventCase): boolean =>
  wrapper !== "throwing-getter" && isValidEvent(fields)

const noDefect = <A, E>(exit: Exit.Exit<A, E>, label: string): void => {
  if (Exit.isFailure(exit)) assert.isFalse(Cause.hasDies(exit.cause), `${label}: ${Cause.pretty(exit.cause)}`)
}

describe(`hostile inputs, randomized (seed ${SEED})`, () => {
  it.live("append and appendAll: accepted exactly when valid, never a defect; disk holds the accepted", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const singles = fc.sample(eventCase, { numRuns: 300, seed: SEED })
      const lists = fc.sample(fc.array(eventCase, { maxLength: 6 }), { numRuns: 60, seed: SEED + 1 })
      const written: Array<Record<string, unknown>> = []
      yield* Effect.scoped(
        Effect.gen(function* () {
          const [wal] = yield* WalHandle.open({ dir, groupCommit: "eager" })
          for (const [index, c] of singles.entries()) {
            const label = `seed ${SEED}, single ${index}: ${c.wrapper}`
            const exit = yield* Effect.exit(wal.append(build(c) as SignalEvent))
            noDefect(exit, label)
            assert.strictEqual(Exit.isSuccess(exit), expectValid(c), label)
            if (Exit.isFailure(exit)) {
              assert.strictEqual(
                Cause.findErrorOption(exit.cause).pipe((e) => e._tag === "Some" && e.value._tag),
                "InvalidEventError",
                label
              )
            } else if (exit.value !== 0n) {
              written.push(c.fields)
            }
          }
          for (const [index, list] of lists.entries()) {
            const label = `seed ${SEED}, list ${index}`
            const exit = yield* Effect.exit(wal.appendAll(list.map(build) as Array<SignalEvent>))
            noDefect(exit, label)
            const firstInvalid = list.findIndex((c) => !expectValid(c))
            assert.strictEqual(Exit.isSuccess(exit), firstInvalid === -1, label)
            if (Exit.isFailure(exit)) {
              const error = Cause.findErrorOption(exit.cause)
              assert.isTrue(error._tag === "Some" && error.value._tag === "InvalidEventError", label)
              if (error._tag === "Some" && error.value._tag === "InvalidEventError") {
                assert.match(error.value.field, new RegExp(`^events\\[${firstInvalid}\\]`), label)
              }
            } else {
              exit.value.forEach((seq, i) => {
                const c = list[i]
                if (seq !== 0n && c !== undefined) written.push(c.fields)
              })
            }
          }
        })
      )
      const replayed = yield* Effect.scoped(
        Effect.map(WalHandle.open({ dir }), ([, events]) => Array.from(events, (e) => plainEvent(e)))
      )
      assert.deepStrictEqual(
        replayed,
        written.map((fields) => stored(fields as unknown as SignalEvent)),
        `seed ${SEED}`
      )
    }).pipe(Effect.provide(nodeLayer))
  )

  it.effect("decodeWalConfig and sequence numbers: a typed result for any input, never a defect", () =>
    Effect.gen(function* () {
      const key = fc.constantFrom(
        "dir",
        "segmentMaxBytes",
        "batchMaxEvents",
        "batchMaxWait",
        "queueCapacity",
        "dedupWindow",
        "recoveryMode",
        "groupCommit",
        "replay",
        "recoverymode",
        "extra"
      )
      const configValue = fc.oneof(
        fieldValue,
        fc.constantFrom<unknown>("/tmp/x", "10 millis", "strict", "eager", "")
      )
      const configs = fc.sample(fc.dictionary(key, configValue, { maxKeys: 5 }), {
        numRuns: 400,
        seed: SEED + 2
      })
      for (const [index, raw] of configs.entries()) {
        const input = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, materialize(v)]))
        const exit = yield* Effect.exit(decodeWalConfig(input))
        noDefect(exit, `seed ${SEED}, config ${index}`)
      }
      const [wal] = yield* WalHandle.open({ dir: yield* tempDir, groupCommit: "eager" })
      for (const [index, value] of fc.sample(fieldValue, { numRuns: 200, seed: SEED + 3 }).entries()) {
        const seq = materialize(value) as bigint
        noDefect(yield* Effect.exit(wal.checkpoint(seq)), `seed ${SEED}, checkpoint ${index}`)
        noDefect(yield* Effect.exit(wal.truncateBefore(seq)), `seed ${SEED}, truncateBefore ${index}`)
      }
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})
