/**
 * The dedup window's rotation hands the new period a table sized for the period that just ended
 * (KeyTable.clear(expectedKeys)): it neither grows key by key nor is allocated afresh, and it
 * holds nothing of the keys it held before.
 */
import { assert, describe, it } from "@effect/vitest"
import { makeDedupWindow } from "../../src/internal/dedup/DedupWindow.ts"
import { KeyTable } from "../../src/internal/dedup/KeyTable.ts"

const WINDOW_NANOS = 1_000n

/** `count` distinct keys from `first` on, 4 words each. */
const keysFrom = (first: number, count: number): Uint32Array => {
  const keys = new Uint32Array(count * 4)
  for (let i = 0; i < count; i++) {
    const k = first + i
    keys.set([Math.imul(k, 0x9e3779b1) >>> 0, k, ~k >>> 0, 0x5eed], i * 4)
  }
  return keys
}

describe("dedup rotation", () => {
  it("a steady period after a rotation does not grow the tables", () => {
    const window = makeDedupWindow(WINDOW_NANOS, 0n)
    const keysPerPeriod = 20_000
    window.remember(keysFrom(0, keysPerPeriod), keysPerPeriod)
    window.advanceTo(WINDOW_NANOS)
    const afterFirstRotation = window.retainedBytes()
    window.remember(keysFrom(keysPerPeriod, keysPerPeriod), keysPerPeriod)
    assert.strictEqual(window.retainedBytes(), afterFirstRotation, "the second period's table grew")
    window.advanceTo(2n * WINDOW_NANOS)
    window.remember(keysFrom(2 * keysPerPeriod, keysPerPeriod), keysPerPeriod)
    assert.strictEqual(window.retainedBytes(), afterFirstRotation, "the third period's table grew")
  })

  it("the reused table forgets its keys: a key two periods old is no longer in the window", () => {
    const window = makeDedupWindow(WINDOW_NANOS, 0n)
    const old = keysFrom(0, 5_000)
    window.remember(old, 5_000)
    window.advanceTo(WINDOW_NANOS)
    assert.isTrue(window.contains(old, 4_999), "one period old: still in the window")
    window.remember(keysFrom(5_000, 5_000), 5_000)
    window.advanceTo(2n * WINDOW_NANOS)
    for (const i of [0, 1, 2_500, 4_999]) assert.isFalse(window.contains(old, i), `key ${i}`)
  })

  it("clear(n) sizes the table so that n keys fit without growing; clear() gives storage back", () => {
    const table = new KeyTable()
    const initialBytes = table.retainedBytes
    for (const expected of [0, 1, 767, 768, 769, 100_000]) {
      table.clear(expected)
      const bytes = table.retainedBytes
      const keys = keysFrom(expected, expected)
      for (let i = 0; i < expected; i++) assert.isTrue(table.addKey(keys, i))
      assert.strictEqual(table.retainedBytes, bytes, `${expected} keys grew the table`)
      assert.strictEqual(table.size, expected)
      // At most twice what growth would have reached: bytes per key stay those of growth.
      assert.isAtMost(bytes, Math.max(initialBytes, expected * 16 * 2 * (4 / 3) + 16))
    }
    table.clear()
    assert.strictEqual(table.retainedBytes, initialBytes)
    assert.strictEqual(table.size, 0)
  })
})
