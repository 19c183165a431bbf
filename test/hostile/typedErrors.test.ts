/**
 * Issue #12 B, "bad input never throws": every public entry point, given what plain JavaScript
 * can pass — null, numbers, symbols, Proxies whose traps throw, revoked Proxies, throwing
 * getters and iterators, unknown keys, NaN, u64 bounds — ends in a typed `WalError` naming the
 * field (or in a correct result), never in a defect and never in a hang.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { type SignalEvent, WalHandle, type WalHandleShape, WalReader } from "../../src/index.ts"
import { eventFor, nodeLayer, tempDir } from "../support/wal.ts"
import { assertNames, revokedProxy, throwingProxy, typedFailure, withThrowingGetter } from "./support.ts"

const good = eventFor(1)

/** Config inputs that must fail with InvalidConfigError on the named field; `dir` is filled in. */
const badConfigs = (dir: string): ReadonlyArray<readonly [string, unknown, string]> => [
  ["null", null, "(root)"],
  ["undefined", undefined, "(root)"],
  ["a number", 42, "(root)"],
  ["a string", dir, "(root)"],
  ["an array", [dir], "(root)"],
  ["a Proxy whose traps throw", throwingProxy(), "(root)"],
  ["a revoked Proxy", revokedProxy(), "(root)"],
  ["a throwing dir getter", withThrowingGetter({}, "dir"), "dir"],
  ["a throwing inherited dir getter", Object.create(withThrowingGetter({}, "dir")), "dir"],
  ["a throwing batchMaxEvents getter", withThrowingGetter({ dir }, "batchMaxEvents"), "batchMaxEvents"],
  ["dir a Proxy", { dir: throwingProxy() }, "dir"],
  ["dir with a NUL", { dir: `${dir}\0x` }, "dir"],
  ["an unknown key (misspelt recoveryMode)", { dir, recoverymode: "strict" }, "recoverymode"],
  ["an unknown key", { dir, batchSize: 10 }, "batchSize"],
  ["an unknown symbol key", { dir, [Symbol("extra")]: 1 }, "Symbol(extra)"],
  ["batchMaxWait NaN", { dir, batchMaxWait: Number.NaN }, "batchMaxWait"],
  ["dedupWindow NaN", { dir, dedupWindow: Number.NaN }, "dedupWindow"],
  ["batchMaxWait a Proxy", { dir, batchMaxWait: throwingProxy() }, "batchMaxWait"],
  ["dedupWindow a revoked Proxy", { dir, dedupWindow: revokedProxy() }, "dedupWindow"],
  ["batchMaxEvents a symbol", { dir, batchMaxEvents: Symbol("n") }, "batchMaxEvents"],
  ["batchMaxEvents a bigint", { dir, batchMaxEvents: 10n }, "batchMaxEvents"],
  ["queueCapacity NaN", { dir, queueCapacity: Number.NaN }, "queueCapacity"],
  ["segmentMaxBytes Infinity", { dir, segmentMaxBytes: Number.POSITIVE_INFINITY }, "segmentMaxBytes"]
]

/** Values that are not events at all, or whose fields cannot be read or are not valid. */
const badEvents: ReadonlyArray<readonly [string, unknown, string]> = [
  ["null", null, "(root)"],
  ["undefined", undefined, "(root)"],
  ["a number", 42, "(root)"],
  ["a string", "event", "(root)"],
  ["a symbol", Symbol("event"), "(root)"],
  ["a bigint", 1n, "(root)"],
  ["a function", () => good, "(root)"],
  ["an array", [1n, 1, 1, 1n], "(root)"],
  [
    "a revoked Proxy of an array",
    (() => {
      const { proxy, revoke } = Proxy.revocable([good], {})
      revoke()
      return proxy
    })(),
    "(root)"
  ],
  ["a null-prototype empty object", Object.create(null), "entityId"],
  ["a Proxy whose traps throw", throwingProxy(), "entityId"],
  ["a revoked Proxy", revokedProxy(), "(root)"],
  ["a throwing weight getter", withThrowingGetter(good, "weight"), "weight"],
  ["a throwing timestamp getter", withThrowingGetter(good, "timestamp"), "timestamp"],
  ["entityId a Proxy", { ...good, entityId: throwingProxy() }, "entityId"],
  ["weight a revoked Proxy", { ...good, weight: revokedProxy() }, "weight"],
  ["entityId 2^64", { ...good, entityId: 2n ** 64n }, "entityId"],
  ["entityId -1n", { ...good, entityId: -1n }, "entityId"],
  ["timestamp 2^64", { ...good, timestamp: 2n ** 64n }, "timestamp"],
  ["weight NaN", { ...good, weight: Number.NaN }, "weight"],
  ["signalType a symbol", { ...good, signalType: Symbol("t") }, "signalType"],
  ["timestamp a boxed bigint", { ...good, timestamp: Object(5n) }, "timestamp"]
]

/** Valid events in unusual clothes: each must be appended, with only its four fields captured. */
const oddButValid: ReadonlyArray<readonly [string, unknown]> = [
  ["a frozen object", Object.freeze({ ...eventFor(2) })],
  ["extra keys", { ...eventFor(3), note: "ignored", [Symbol("s")]: 1 }],
  ["inherited fields", Object.create(eventFor(4))],
  ["a transparent Proxy", new Proxy({ ...eventFor(5) }, {})],
  [
    "a class instance with getters",
    new (class {
      readonly timestamp = eventFor(6).timestamp
      get entityId() {
        return eventFor(6).entityId
      }
      get signalType() {
        return eventFor(6).signalType
      }
      get weight() {
        return eventFor(6).weight
      }
    })()
  ]
]

/** Things passed as `events` that are not iterables of events. */
const badEventLists = (): ReadonlyArray<readonly [string, unknown, string]> => [
  ["null", null, "events"],
  ["undefined", undefined, "events"],
  ["a number", 42, "events"],
  ["an empty object", {}, "events"],
  ["a single event", good, "events"],
  ["a Proxy whose traps throw", throwingProxy(), "events"],
  ["a revoked Proxy", revokedProxy(), "events"],
  ["an iterator method returning a number", { [Symbol.iterator]: () => 5 }, "events"],
  ["an iterator whose results are numbers", { [Symbol.iterator]: () => ({ next: () => 5 }) }, "events"],
  [
    "an iterator that throws mid-way",
    (function* () {
      yield good
      throw new Error("iterator broke")
    })(),
    "events"
  ],
  [
    "an array whose element getter throws",
    Object.defineProperty([good, good], 1, {
      get: () => {
        throw new Error("element getter")
      }
    }),
    "events"
  ],
  ["an event whose getter throws", [good, withThrowingGetter(good, "signalType")], "events[1].signalType"],
  ["null among events", [good, null], "events[1]"],
  ["a string (characters are not events)", "ab", "events[0]"],
  [
    "a bad event, then an iterator whose return throws",
    {
      [Symbol.iterator]: () => {
        let left = 3
        return {
          next: () => (left-- > 0 ? { done: false, value: { ...good, weight: Number.NaN } } : { done: true }),
          return: () => {
            throw new Error("return broke")
          }
        }
      }
    },
    "events[0].weight"
  ]
]

/** Arguments that are not u64 bigint sequence numbers, and what the message must show. */
const badSeqs: ReadonlyArray<readonly [string, unknown, string]> = [
  ["a number", 5, "5 (a number)"],
  ["a string", "5", '"5" (a string)'],
  ["a fraction", 1.5, "1.5 (a number)"],
  ["null", null, "null"],
  ["-1n", -1n, "-1n"],
  ["2^64", 2n ** 64n, "18446744073709551616n"],
  ["a symbol", Symbol("seq"), "Symbol(seq) (a symbol)"],
  ["a Proxy whose traps throw", throwingProxy(), "(an object)"]
]

const withWal = <A, E>(body: (wal: WalHandleShape, dir: string) => Effect.Effect<A, E>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const dir = yield* tempDir
      const [wal] = yield* WalHandle.open({ dir, groupCommit: "eager" })
      return yield* body(wal, dir)
    })
  ).pipe(Effect.provide(nodeLayer))

/** The cases' labels, with a placeholder directory: the real one is made inside each test. */
const configLabels = badConfigs("/placeholder").map(([label, , field]) => [label, field] as const)

describe("WalHandle.open: bad configs are InvalidConfigError naming the field", () => {
  configLabels.forEach(([label, field], index) => {
    it.live(`open(${label}) names ${field}`, () =>
      Effect.gen(function* () {
        const [, input] = badConfigs(yield* tempDir)[index] ?? []
        const error = yield* typedFailure(Effect.scoped(WalHandle.open(input as { dir: string })), label)
        assertNames(error, "InvalidConfigError", field, label)
      }).pipe(Effect.provide(nodeLayer))
    )
  })
})

describe("WalHandle.layer: bad configs are InvalidConfigError naming the field", () => {
  configLabels.forEach(([label, field], index) => {
    it.live(`layer(${label}) names ${field}`, () =>
      Effect.gen(function* () {
        const [, input] = badConfigs(yield* tempDir)[index] ?? []
        const program = Effect.gen(function* () {
          yield* WalHandle
        }).pipe(Effect.provide(WalHandle.layer(input as { dir: string })))
        const error = yield* typedFailure(program, label)
        assertNames(error, "InvalidConfigError", field, label)
      }).pipe(Effect.provide(nodeLayer))
    )
  })
})

describe("WalHandle.open: unusual but valid configs", () => {
  it.live(
    "the unknown-key error says which key was meant; frozen, class and undefined-valued configs open",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const error = yield* typedFailure(
          Effect.scoped(WalHandle.open({ dir, recoverymode: "strict" } as { dir: string })),
          "recoverymode"
        )
        assert.include(error.message, '"recoveryMode"')
        class Config {
          readonly dir = dir
          get recoveryMode() {
            return "strict" as const
          }
        }
        for (const config of [Object.freeze({ dir }), new Config(), { dir, batchMaxEvents: undefined }]) {
          const recovery = yield* Effect.scoped(
            Effect.map(WalHandle.open(config as { dir: string }), ([wal]) => wal.recovery)
          )
          assert.isDefined(recovery)
        }
      }).pipe(Effect.provide(nodeLayer))
  )
})

describe("append: bad events are InvalidEventError naming the field", () => {
  for (const [label, input, field] of badEvents) {
    it.live(`append(${label}) names ${field}`, () =>
      withWal((wal) =>
        Effect.gen(function* () {
          const error = yield* typedFailure(wal.append(input as SignalEvent), label)
          assertNames(error, "InvalidEventError", field, label)
          assert.strictEqual(yield* wal.nextSeq, 1n)
        })
      )
    )
  }

  it.live("append and appendAll of valid events in unusual clothes succeed", () =>
    withWal((wal) =>
      Effect.gen(function* () {
        const seqs: Array<bigint> = []
        for (const [, input] of oddButValid) seqs.push(yield* wal.append(input as SignalEvent))
        assert.deepStrictEqual(seqs, [1n, 2n, 3n, 4n, 5n])
        const all = yield* wal.appendAll(oddButValid.map(([, input]) => input as SignalEvent))
        assert.deepStrictEqual(all, [0n, 0n, 0n, 0n, 0n])
      })
    )
  )
})

describe("appendAll: lists of no events", () => {
  it.live("an empty array, Set or generator answers [] at once and writes nothing", () =>
    withWal((wal) =>
      Effect.gen(function* () {
        const empties: ReadonlyArray<Iterable<SignalEvent>> = [[], new Set(), (function* () {})()]
        for (const empty of empties) {
          const seqs = yield* wal.appendAll(empty).pipe(Effect.timeout("5 seconds"))
          assert.deepStrictEqual(seqs, [])
        }
        assert.strictEqual(yield* wal.nextSeq, 1n)
        assert.deepStrictEqual(yield* wal.appendAll([good]), [1n])
      })
    )
  )
})

describe("appendAll: a bad event is named by index, a bad list on events", () => {
  for (const [label, input, field] of badEvents) {
    const expected = field === "(root)" ? "events[1]" : `events[1].${field}`
    it.live(`appendAll([good, ${label}]) names ${expected}`, () =>
      withWal((wal) =>
        Effect.gen(function* () {
          const error = yield* typedFailure(wal.appendAll([good, input] as Array<SignalEvent>), label)
          assertNames(error, "InvalidEventError", expected, label)
          assert.strictEqual(yield* wal.nextSeq, 1n)
        })
      )
    )
  }
  badEventLists().forEach(([label, , field], index) => {
    it.live(`appendAll(${label}) names ${field}`, () =>
      withWal((wal) =>
        Effect.gen(function* () {
          const [, input] = badEventLists()[index] ?? []
          const error = yield* typedFailure(wal.appendAll(input as Iterable<SignalEvent>), label)
          assertNames(error, "InvalidEventError", field, label)
          assert.strictEqual(yield* wal.nextSeq, 1n)
        })
      )
    )
  })
})

const seqCalls: ReadonlyArray<
  readonly [string, (wal: WalHandleShape, seq: unknown) => Effect.Effect<unknown, unknown>]
> = [
  ["checkpoint", (wal, seq) => wal.checkpoint(seq as bigint)],
  ["truncateBefore", (wal, seq) => wal.truncateBefore(seq as bigint)],
  ["read(fromSeq)", (wal, seq) => Stream.runDrain(wal.read(seq as bigint))],
  ["read(1n, toSeq)", (wal, seq) => Stream.runDrain(wal.read(1n, seq as bigint))],
  ["tail(fromSeq)", (wal, seq) => Stream.runDrain(wal.tail(seq as bigint))]
]

describe("sequence-number arguments are CheckpointError whose message shows the value", () => {
  for (const [name, call] of seqCalls) {
    it.live(`${name} of ${badSeqs.map(([label]) => label).join(", ")}`, () =>
      withWal((wal) =>
        Effect.gen(function* () {
          yield* wal.append(good)
          for (const [label, seq, shown] of badSeqs) {
            const error = yield* typedFailure(call(wal, seq), `${name}(${label})`)
            assertNames(error, "CheckpointError", undefined, `${name}(${label})`)
            assert.include(error.message, shown, `${name}(${label})`)
            assert.include(error.message, "bigint", `${name}(${label})`)
          }
        })
      )
    )
  }
})

describe("WalReader: bad arguments are typed errors before any file is touched", () => {
  const readCases = (
    dir: string
  ): ReadonlyArray<
    readonly [string, unknown, unknown, "InvalidConfigError" | "CheckpointError", string | undefined]
  > => [
    ["dir null", null, undefined, "InvalidConfigError", "dir"],
    ["dir a Proxy", throwingProxy(), undefined, "InvalidConfigError", "dir"],
    ["dir empty", "", undefined, "InvalidConfigError", "dir"],
    ["options null", dir, null, "InvalidConfigError", "options"],
    ["options a number", dir, 5, "InvalidConfigError", "options"],
    [
      "a throwing fromSeq getter",
      dir,
      withThrowingGetter({}, "fromSeq"),
      "InvalidConfigError",
      "options.fromSeq"
    ],
    ["fromSeq a number", dir, { fromSeq: 5 }, "CheckpointError", undefined],
    ["toSeq -1n", dir, { toSeq: -1n }, "CheckpointError", undefined],
    ["toSeq 2^64", dir, { toSeq: 2n ** 64n }, "CheckpointError", undefined]
  ]
  readCases("/placeholder").forEach(([label, , , tag, field], index) => {
    it.live(`WalReader.read(${label}) is ${tag}${field === undefined ? "" : ` on ${field}`}`, () =>
      Effect.gen(function* () {
        const [, readDir, options] = readCases(yield* tempDir)[index] ?? []
        const error = yield* typedFailure(
          Stream.runDrain(WalReader.read(readDir as string, options as WalReader.ReadOptions)),
          label
        )
        assertNames(error, tag, field, label)
      }).pipe(Effect.provide(nodeLayer))
    )
  })

  it.live("WalReader.scan(null | 5 | a revoked Proxy) is InvalidConfigError on dir", () =>
    Effect.gen(function* () {
      for (const [label, scanDir] of [
        ["null", null],
        ["a number", 5],
        ["a revoked Proxy", revokedProxy()]
      ] as const) {
        const error = yield* typedFailure(WalReader.scan(scanDir as unknown as string), `scan(${label})`)
        assertNames(error, "InvalidConfigError", "dir", `scan(${label})`)
      }
    }).pipe(Effect.provide(nodeLayer))
  )
})
