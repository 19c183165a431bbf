/**
 * Issue #12 A, SPEC §3 "An append captures its event when it is called": the event written is
 * the event validated. Each field is read exactly once at the call (getters, Proxies), and
 * nothing the caller does afterwards — mutating its object, reusing it, changing its array —
 * reaches the disk.
 *
 * Method: a long `batchMaxWait` on `TestClock` keeps the batch pending while the test mutates,
 * then the clock moves, the batch is written, and a reopen shows what is on disk.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { type SignalEvent, WalHandle } from "../../src/index.ts"
import { eventFor, nodeLayer, plainEvent, settle, stored, tempDir } from "../support/wal.ts"

/** Long enough that nothing is written until the test moves the clock. */
const PENDING = { batchMaxWait: "10 seconds", groupCommit: "window" } as const

interface Mutable {
  entityId: bigint
  signalType: number
  weight: number
  timestamp: bigint
}

/** What reopening `dir` replays, as plain events. */
const onDisk = (dir: string) =>
  Effect.scoped(
    Effect.map(WalHandle.open({ dir }), ([, replayed]) => Array.from(replayed, (event) => plainEvent(event)))
  )

/** Runs `effect` forked, lets it reach the writer, runs `meddle`, then lets the batch be written. */
const meddleWhilePending = <A, E>(effect: Effect.Effect<A, E>, meddle: () => void) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.forkChild(effect)
    yield* settle()
    meddle()
    yield* TestClock.adjust("10 seconds")
    return yield* Fiber.join(fiber)
  })

/** An event whose every field is a getter: valid on the first read, invalid on any later one. */
const flipping = (valid: SignalEvent) => {
  const reads = { entityId: 0, signalType: 0, weight: 0, timestamp: 0 }
  const event = {
    get entityId() {
      return reads.entityId++ === 0 ? valid.entityId : -1n
    },
    get signalType() {
      return reads.signalType++ === 0 ? valid.signalType : 256
    },
    get weight() {
      return reads.weight++ === 0 ? valid.weight : Number.NaN
    },
    get timestamp() {
      return reads.timestamp++ === 0 ? valid.timestamp : 2n ** 64n
    }
  }
  return { event: event as SignalEvent, reads }
}

describe("append captures the event at the call", () => {
  it.effect("getters: each is called exactly once, and disk holds the values that were validated", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const { event, reads } = flipping(eventFor(1))
      yield* Effect.scoped(
        Effect.gen(function* () {
          const [wal] = yield* WalHandle.open({ dir, ...PENDING })
          assert.strictEqual(yield* meddleWhilePending(wal.append(event), () => undefined), 1n)
        })
      )
      assert.deepStrictEqual(reads, { entityId: 1, signalType: 1, weight: 1, timestamp: 1 })
      assert.deepStrictEqual(yield* onDisk(dir), [stored(eventFor(1))])
    }).pipe(Effect.provide(nodeLayer))
  )

  it.effect("a Proxy is trapped once per field; later reads that would be invalid never happen", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const valid = eventFor(2)
      const gets: Array<PropertyKey> = []
      const proxy = new Proxy(plainEvent(valid), {
        get(target, key, receiver) {
          gets.push(key)
          // Any second read of a field sees garbage: a NaN weight, a negative id.
          if (gets.filter((k) => k === key).length > 1) return key === "weight" ? Number.NaN : -1n
          return Reflect.get(target, key, receiver)
        }
      })
      yield* Effect.scoped(
        Effect.gen(function* () {
          const [wal] = yield* WalHandle.open({ dir, ...PENDING })
          assert.strictEqual(yield* meddleWhilePending(wal.append(proxy), () => undefined), 1n)
        })
      )
      assert.deepStrictEqual([...gets].sort(), ["entityId", "signalType", "timestamp", "weight"])
      assert.deepStrictEqual(yield* onDisk(dir), [stored(valid)])
    }).pipe(Effect.provide(nodeLayer))
  )

  it.effect("mutating the object after append, while its batch is pending, changes nothing on disk", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const event: Mutable = { ...eventFor(3) }
      const original = plainEvent(event)
      yield* Effect.scoped(
        Effect.gen(function* () {
          const [wal] = yield* WalHandle.open({ dir, ...PENDING })
          const seq = yield* meddleWhilePending(wal.append(event), () => {
            // What a caller reusing a scratch object does; unvalidated, -1n would land as 2^64 - 1.
            event.entityId = -1n
            event.weight = Number.NaN
            event.signalType = 999
            event.timestamp = 2n ** 64n + 5n
          })
          assert.strictEqual(seq, 1n)
        })
      )
      assert.deepStrictEqual(yield* onDisk(dir), [stored(original)])
    }).pipe(Effect.provide(nodeLayer))
  )

  it.effect("the event is read when append is called, not when its effect runs", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const event: Mutable = { ...eventFor(4) }
      const original = plainEvent(event)
      yield* Effect.scoped(
        Effect.gen(function* () {
          const [wal] = yield* WalHandle.open({ dir, groupCommit: "eager" })
          const append = wal.append(event)
          event.weight = Number.NaN
          event.entityId = 99n
          assert.strictEqual(yield* append, 1n)
        })
      )
      assert.deepStrictEqual(yield* onDisk(dir), [stored(original)])
    }).pipe(Effect.provide(nodeLayer))
  )
})

describe("appendAll captures the events and the array at the call", () => {
  it.effect("mutating the array and its events after the call, batch pending, changes nothing", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const events: Array<Mutable> = [{ ...eventFor(5) }, { ...eventFor(6) }, { ...eventFor(7) }]
      const originals = events.map(plainEvent)
      yield* Effect.scoped(
        Effect.gen(function* () {
          const [wal] = yield* WalHandle.open({ dir, ...PENDING })
          const appendAll = wal.appendAll(events)
          // The array changes before the effect even runs…
          events[0] = { ...eventFor(50) }
          events.pop()
          const seqs = yield* meddleWhilePending(appendAll, () => {
            // …and the events it held change while their batch waits for the window.
            const second = events[1]
            if (second !== undefined) second.weight = Number.NaN
            for (const e of events) e.entityId = -1n
          })
          assert.deepStrictEqual(seqs, [1n, 2n, 3n])
        })
      )
      assert.deepStrictEqual(yield* onDisk(dir), originals.map(stored))
    }).pipe(Effect.provide(nodeLayer))
  )

  it.effect("a generator that reuses one object yields distinct events, each read once", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      let getterCalls = 0
      function* reusing(): Generator<SignalEvent> {
        const scratch: Mutable = { ...eventFor(0) }
        for (let i = 10; i < 13; i++) {
          Object.assign(scratch, eventFor(i))
          yield {
            ...scratch,
            get weight() {
              getterCalls++
              return scratch.weight
            }
          }
        }
      }
      // The same scratch object, yielded three times with different contents.
      function* sameObject(): Generator<SignalEvent> {
        const scratch: Mutable = { ...eventFor(0) }
        for (let i = 20; i < 23; i++) {
          Object.assign(scratch, eventFor(i))
          yield scratch
        }
      }
      yield* Effect.scoped(
        Effect.gen(function* () {
          const [wal] = yield* WalHandle.open({ dir, groupCommit: "eager" })
          assert.deepStrictEqual(yield* wal.appendAll(reusing()), [1n, 2n, 3n])
          assert.deepStrictEqual(yield* wal.appendAll(sameObject()), [4n, 5n, 6n])
        })
      )
      assert.strictEqual(getterCalls, 3)
      assert.deepStrictEqual(
        yield* onDisk(dir),
        [10, 11, 12, 20, 21, 22].map((i) => stored(eventFor(i)))
      )
    }).pipe(Effect.provide(nodeLayer))
  )

  it.effect("appendAll of flipping getters and Proxies: one read per field, validated values on disk", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const first = flipping(eventFor(30))
      const second = flipping(eventFor(31))
      const third = new Proxy(plainEvent(eventFor(32)), {})
      yield* Effect.scoped(
        Effect.gen(function* () {
          const [wal] = yield* WalHandle.open({ dir, ...PENDING })
          const seqs = yield* meddleWhilePending(
            wal.appendAll([first.event, second.event, third]),
            () => undefined
          )
          assert.deepStrictEqual(seqs, [1n, 2n, 3n])
        })
      )
      for (const { reads } of [first, second]) {
        assert.deepStrictEqual(reads, { entityId: 1, signalType: 1, weight: 1, timestamp: 1 })
      }
      assert.deepStrictEqual(
        yield* onDisk(dir),
        [30, 31, 32].map((i) => stored(eventFor(i)))
      )
    }).pipe(Effect.provide(nodeLayer))
  )
})
