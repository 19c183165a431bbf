/**
 * PendingKeys, the table of keys not yet durable: a key repeats only while its batch is live,
 * and the table says when it needs rebuilding, before it can run out of room.
 */
import { assert, describe, it } from "@effect/vitest"
import { PendingKeys } from "../../src/internal/dedup/PendingKeys.ts"
import { xorshiftWords } from "../support/words.ts"

const keysOf = (words: ReadonlyArray<number>) => new Uint32Array(words)

describe("PendingKeys", () => {
  it("a key claimed by a live batch cannot be claimed again; a stale one can", () => {
    const table = new PendingKeys(100)
    const key = keysOf([7, 8, 9, 10])
    assert.isTrue(table.claim(key, 0, 1, 1))
    // Same batch, and a later batch while batch 1 is still live.
    assert.isFalse(table.claim(key, 0, 1, 1))
    assert.isFalse(table.claim(key, 0, 3, 1))
    // Batch 1 completed (the oldest live batch is now 2): the entry is stale, the key is free.
    assert.isTrue(table.claim(key, 0, 3, 2))
    assert.isFalse(table.claim(key, 0, 4, 3))
    // The all-zero key is an ordinary key here.
    const zero = keysOf([0, 0, 0, 0])
    assert.isTrue(table.claim(zero, 0, 5, 5))
    assert.isFalse(table.claim(zero, 0, 5, 5))
  })

  it("keys differing in any word are different; colliding home slots still resolve", () => {
    const table = new PendingKeys(100)
    const base = [0x100, 2, 3, 4]
    for (let w = 0; w < 4; w++) {
      const other = [...base]
      other[w] = (other[w] as number) + 1024 * 1024
      assert.isTrue(table.claim(keysOf(other), 0, 1, 1), `word ${w}`)
    }
    assert.isTrue(table.claim(keysOf(base), 0, 1, 1))
    assert.isFalse(table.claim(keysOf(base), 0, 1, 1))
  })

  it("reports full at twice its live keys; after clear and re-entry of the live keys it answers as before", () => {
    const live = 50
    const table = new PendingKeys(live)
    const next = xorshiftWords(99)
    const keys = new Uint32Array(4 * live * 3)
    for (let i = 0; i < keys.length; i++) keys[i] = next()
    let claimed = 0
    while (!table.isFull()) {
      assert.isTrue(table.claim(keys, claimed, claimed + 1, claimed + 1))
      claimed++
    }
    assert.strictEqual(claimed, live * 2)
    table.clear()
    assert.isFalse(table.isFull())
    // Re-enter the last batch only, as the writer does with the batches in flight.
    assert.isTrue(table.claim(keys, claimed - 1, claimed, claimed))
    assert.isFalse(table.claim(keys, claimed - 1, claimed + 1, claimed))
    assert.isTrue(table.claim(keys, 0, claimed + 1, claimed))
  })
})
