/**
 * The one-block BLAKE3 behind dedup keys against two independent implementations (hash-wasm and
 * @noble/hashes), over arbitrary record bytes at arbitrary offsets, and the SPEC vectors.
 */
import { assert, describe, it } from "@effect/vitest"
import { blake3 as nobleBlake3 } from "@noble/hashes/blake3.js"
import fc from "fast-check"
import { createBLAKE3 } from "hash-wasm"
import { dedupKey, dedupKeyInto } from "../../src/internal/dedup/dedupKey.ts"
import { fromHex, hex, vectors } from "../support/vectors.ts"

const hashWasm128 = await createBLAKE3(128)

describe("dedup key BLAKE3 (one-block compression)", () => {
  it("equals hash-wasm and @noble/hashes on arbitrary 21-byte records at any offset", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 21, maxLength: 21 }),
        fc.nat({ max: 40 }),
        fc.nat({ max: 7 }),
        (record, offset, index) => {
          const bytes = new Uint8Array(offset + 21 + 5).fill(0xa5)
          bytes.set(record, offset)
          const words = new Uint32Array(4 * 8).fill(0xdeadbeef)
          dedupKeyInto(bytes, offset, words, index)
          const key = new Uint8Array(words.buffer, index * 16, 16)
          hashWasm128.init()
          hashWasm128.update(record)
          assert.strictEqual(hex(key), hex(hashWasm128.digest("binary")))
          assert.strictEqual(hex(dedupKey(record)), hex(nobleBlake3(record).subarray(0, 16)))
          // Only the four words of `index` are written.
          for (let w = 0; w < words.length; w++) {
            if (w < index * 4 || w >= index * 4 + 4) assert.strictEqual(words[w], 0xdeadbeef)
          }
        }
      ),
      { numRuns: 3000 }
    )
  })

  it("reproduces every dedup key of the vectors", () => {
    for (const v of vectors.events) assert.strictEqual(hex(dedupKey(fromHex(v.record))), v.dedupKey)
  })
})
