/**
 * `appendAll`'s capture (src/internal/wal/captureEvents.ts): every event encoded into one buffer
 * at the call. Arrays are walked by index, everything else through its iterator; either way each
 * element and each field is read once, and no input makes it throw or allocate past what it read.
 */
import { assert, describe, it } from "@effect/vitest"
import { encodeEventRecord } from "../../src/internal/format/eventRecord.ts"
import { EVENT_RECORD_BYTES } from "../../src/internal/format/layout.ts"
import { type CapturedEvents, captureEvents } from "../../src/internal/wal/captureEvents.ts"
import type { SignalEvent } from "../../src/SignalEvent.ts"
import { InvalidEventError } from "../../src/WalError.ts"
import { eventFor, eventsFor, plainEvent } from "../support/wal.ts"

const captured = (events: unknown): CapturedEvents => {
  const result = captureEvents(events)
  if (result instanceof InvalidEventError) throw new Error(`unexpected ${result.message}`)
  return result
}

const failure = (events: unknown): InvalidEventError => {
  const result = captureEvents(events)
  if (!(result instanceof InvalidEventError)) throw new Error("expected an InvalidEventError")
  return result
}

/** The records `events` must be captured as. */
const recordsOf = (events: ReadonlyArray<SignalEvent>): Uint8Array => {
  const bytes = new Uint8Array(events.length * EVENT_RECORD_BYTES)
  events.forEach((event, i) => {
    bytes.set(encodeEventRecord(event), i * EVENT_RECORD_BYTES)
  })
  return bytes
}

describe("captureEvents", () => {
  it("an array, a Set and a generator give the same records, in order", () => {
    const events = eventsFor(40, 7)
    function* generated() {
      yield* events
    }
    for (const input of [events, new Set(events), generated()]) {
      const { records, count } = captured(input)
      assert.strictEqual(count, 40)
      assert.deepStrictEqual(records, recordsOf(events))
    }
  })

  it("grows past its first buffer: 100 000 events from a generator (no length to presize by)", () => {
    function* many() {
      for (let i = 0; i < 100_000; i++) yield eventFor(i)
    }
    const { records, count } = captured(many())
    assert.strictEqual(count, 100_000)
    assert.strictEqual(records.length, 100_000 * EVENT_RECORD_BYTES)
    for (const i of [0, 15, 16, 17, 65_535, 65_536, 99_999]) {
      const at = records.subarray(i * EVENT_RECORD_BYTES, (i + 1) * EVENT_RECORD_BYTES)
      assert.deepStrictEqual(at, encodeEventRecord(eventFor(i)), `event ${i}`)
    }
  })

  it("a Proxy over an array: each element read once, in order, as the array iterator would", () => {
    const events = eventsFor(5, 0)
    const elementReads: Array<string> = []
    const proxy = new Proxy(events, {
      get: (target, key, receiver) => {
        if (typeof key === "string" && key !== "length") elementReads.push(key)
        return Reflect.get(target, key, receiver)
      }
    })
    assert.deepStrictEqual(captured(proxy).records, recordsOf(events))
    assert.deepStrictEqual(elementReads, ["0", "1", "2", "3", "4"])
  })

  it("a huge sparse array fails on its first hole at once, without allocating for its length", () => {
    const error = failure(new Array(2 ** 32 - 1))
    assert.strictEqual(error.field, "events[0]")
  })

  it("a length that lies (a Proxy claiming 2^32 - 1 elements) is no allocation either", () => {
    const events = eventsFor(3, 0)
    const lying = new Proxy(events, {
      get: (target, key, receiver) => (key === "length" ? 2 ** 32 - 1 : Reflect.get(target, key, receiver))
    })
    assert.strictEqual(failure(lying).field, "events[3]")
  })

  it("an array with its own iterator is iterated, not walked by index", () => {
    const events = eventsFor(4, 0)
    const own = Object.assign([...events], {
      *[Symbol.iterator]() {
        yield events[2]
      }
    })
    const { records, count } = captured(own)
    assert.strictEqual(count, 1)
    assert.deepStrictEqual(records, recordsOf(events.slice(2, 3)))
  })

  it("a throwing length, element or iterator is an InvalidEventError on `events`, never a throw", () => {
    const throwing = (key: string) =>
      new Proxy(eventsFor(2, 0), {
        get: (target, k, receiver) => {
          if (k === key) throw new Error(`no ${key}`)
          return Reflect.get(target, k, receiver)
        }
      })
    assert.match(failure(throwing("length")).detail, /no length/)
    assert.match(failure(throwing("1")).detail, /no 1/)
    const iterator = {
      [Symbol.iterator]: () => ({
        next: () => {
          throw new Error("broken")
        }
      })
    }
    assert.strictEqual(failure(iterator).field, "events")
  })

  it("a getter that calls captureEvents itself does not disturb the capture it is part of", () => {
    const inner = eventsFor(3, 100)
    const outer = eventsFor(3, 0)
    const reentrant = {
      ...plainEvent(outer[1] as SignalEvent),
      get weight() {
        assert.strictEqual(captured(inner).count, 3)
        return (outer[1] as SignalEvent).weight
      }
    }
    const { records } = captured([outer[0], reentrant, outer[2]])
    assert.deepStrictEqual(records, recordsOf(outer))
  })

  it("the first bad event is named by its index and field; the capture stops there", () => {
    let readsAfterBad = 0
    const events = [eventFor(0), { ...plainEvent(eventFor(1)), weight: Number.NaN }]
    function* withMore() {
      yield* events
      readsAfterBad++
      yield eventFor(2)
    }
    const error = failure(withMore())
    assert.strictEqual(error.field, "events[1].weight")
    assert.strictEqual(readsAfterBad, 0)
  })
})
