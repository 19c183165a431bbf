/**
 * The dedup key table: a set of 128-bit keys that stays compact and has no size cap — a JS `Set`
 * throws past 2^24 entries, which a 30 s window reaches at about 560k new events/s.
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { makeDedupWindow } from "../../src/internal/dedup/DedupWindow.ts"
import { KeyTable } from "../../src/internal/dedup/KeyTable.ts"
import { xorshiftWords } from "../support/words.ts"

describe("KeyTable", () => {
  it("agrees with a Set of strings on random keys, including the all-zero key", () => {
    const word = fc.oneof(
      fc.constant(0),
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 0, max: 0xffffffff })
    )
    const key = fc.tuple(word, word, word, word)
    fc.assert(
      fc.property(fc.array(key, { maxLength: 3000 }), (keys) => {
        const table = new KeyTable(16)
        const reference = new Set<string>()
        for (const [a, b, c, d] of keys) {
          const id = `${a},${b},${c},${d}`
          assert.strictEqual(table.has(a, b, c, d), reference.has(id))
          assert.strictEqual(table.add(a, b, c, d), !reference.has(id))
          reference.add(id)
        }
        assert.strictEqual(table.size, reference.size)
      }),
      { numRuns: 50 }
    )
  })

  it("holds more than 2^24 keys in one window, at under 40 bytes a key", () => {
    const window = makeDedupWindow(30_000_000_000n, 0n)
    const count = 2 ** 24 + 100_000
    const batch = new Uint32Array(4 * 4096)
    const next = xorshiftWords(12345)
    let remembered = 0
    while (remembered < count) {
      const n = Math.min(4096, count - remembered)
      for (let i = 0; i < n * 4; i++) batch[i] = next()
      window.remember(batch, n)
      remembered += n
    }
    assert.strictEqual(window.size(), count)
    assert.isBelow(window.retainedBytes() / count, 40)
    // Spot-check membership: the same sequence again is all present, a different one absent.
    const again = xorshiftWords(12345)
    const other = xorshiftWords(999)
    const probe = new Uint32Array(4)
    for (let i = 0; i < 100_000; i++) {
      for (let w = 0; w < 4; w++) probe[w] = again()
      assert.isTrue(window.contains(probe, 0))
    }
    for (let i = 0; i < 1000; i++) {
      for (let w = 0; w < 4; w++) probe[w] = other()
      assert.isFalse(window.contains(probe, 0))
    }
  }, 60_000)
})
