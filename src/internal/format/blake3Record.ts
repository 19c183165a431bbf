/**
 * BLAKE3 of one 21-byte event record, the first 128 bits as four little-endian u32 words: the
 * dedup key (docs/FORMAT.md §10 "Deduplication"), computed once per appended event.
 *
 * A record fits in one BLAKE3 block, so its hash is a single compression of that block (flags
 * CHUNK_START | CHUNK_END | ROOT, counter 0, block length 21), and the first four output words
 * are `v[i] ^ v[i + 8]`. Written out with the state in locals, V8 compiles it to plain register
 * arithmetic: about 75 ns a key here, against about 210 ns through hash-wasm's init/update/digest
 * (three calls into WASM and a fresh digest array per key) and 350 ns for the same compression
 * over typed arrays (bench/codec.bench.ts measures the first two side by side). Cross-checked
 * against the vectors, hash-wasm and @noble/hashes (test/format/blake3Record.test.ts).
 */
import { EVENT_RECORD_BYTES } from "./layout.ts"

/** BLAKE3's IV, which is also the key of the unkeyed hash. */
const IV0 = 0x6a09e667 | 0
const IV1 = 0xbb67ae85 | 0
const IV2 = 0x3c6ef372 | 0
const IV3 = 0xa54ff53a | 0
const IV4 = 0x510e527f | 0
const IV5 = 0x9b05688c | 0
const IV6 = 0x1f83d9ab | 0
const IV7 = 0x5be0cd19 | 0
/** CHUNK_START | CHUNK_END | ROOT: the only block of the only chunk, and the output. */
const FLAGS = 1 | 2 | 8

/** The little-endian u32 at `offset` of `bytes`. */
const wordAt = (bytes: Uint8Array, offset: number): number =>
  (bytes[offset] as number) |
  ((bytes[offset + 1] as number) << 8) |
  ((bytes[offset + 2] as number) << 16) |
  ((bytes[offset + 3] as number) << 24)

/**
 * Writes the key of the record at `offset` of `bytes` as words `4 * index .. 4 * index + 3` of
 * `out`. Allocates nothing.
 */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: the seven BLAKE3 rounds unrolled over locals, the measured hot path of dedup; split into calls it would allocate and run slower
export const recordKeyInto = (bytes: Uint8Array, offset: number, out: Uint32Array, index: number): void => {
  // The 64-byte block: the record's 21 bytes, zero-padded.
  let m0 = wordAt(bytes, offset)
  let m1 = wordAt(bytes, offset + 4)
  let m2 = wordAt(bytes, offset + 8)
  let m3 = wordAt(bytes, offset + 12)
  let m4 = wordAt(bytes, offset + 16)
  let m5 = (bytes[offset + 20] as number) | 0
  let m6 = 0
  let m7 = 0
  let m8 = 0
  let m9 = 0
  let m10 = 0
  let m11 = 0
  let m12 = 0
  let m13 = 0
  let m14 = 0
  let m15 = 0
  let v0 = IV0
  let v1 = IV1
  let v2 = IV2
  let v3 = IV3
  let v4 = IV4
  let v5 = IV5
  let v6 = IV6
  let v7 = IV7
  let v8 = IV0
  let v9 = IV1
  let v10 = IV2
  let v11 = IV3
  let v12 = 0
  let v13 = 0
  let v14 = EVENT_RECORD_BYTES
  let v15 = FLAGS
  for (let round = 0; round < 7; round++) {
    // Eight G functions, the quarter-rounds of the spec: four on the columns, four on the diagonals.
    // G(0, 4, 8, 12, m0, m1)
    v0 = (v0 + v4 + m0) | 0
    v12 ^= v0
    v12 = (v12 >>> 16) | (v12 << 16)
    v8 = (v8 + v12) | 0
    v4 ^= v8
    v4 = (v4 >>> 12) | (v4 << 20)
    v0 = (v0 + v4 + m1) | 0
    v12 ^= v0
    v12 = (v12 >>> 8) | (v12 << 24)
    v8 = (v8 + v12) | 0
    v4 ^= v8
    v4 = (v4 >>> 7) | (v4 << 25)
    // G(1, 5, 9, 13, m2, m3)
    v1 = (v1 + v5 + m2) | 0
    v13 ^= v1
    v13 = (v13 >>> 16) | (v13 << 16)
    v9 = (v9 + v13) | 0
    v5 ^= v9
    v5 = (v5 >>> 12) | (v5 << 20)
    v1 = (v1 + v5 + m3) | 0
    v13 ^= v1
    v13 = (v13 >>> 8) | (v13 << 24)
    v9 = (v9 + v13) | 0
    v5 ^= v9
    v5 = (v5 >>> 7) | (v5 << 25)
    // G(2, 6, 10, 14, m4, m5)
    v2 = (v2 + v6 + m4) | 0
    v14 ^= v2
    v14 = (v14 >>> 16) | (v14 << 16)
    v10 = (v10 + v14) | 0
    v6 ^= v10
    v6 = (v6 >>> 12) | (v6 << 20)
    v2 = (v2 + v6 + m5) | 0
    v14 ^= v2
    v14 = (v14 >>> 8) | (v14 << 24)
    v10 = (v10 + v14) | 0
    v6 ^= v10
    v6 = (v6 >>> 7) | (v6 << 25)
    // G(3, 7, 11, 15, m6, m7)
    v3 = (v3 + v7 + m6) | 0
    v15 ^= v3
    v15 = (v15 >>> 16) | (v15 << 16)
    v11 = (v11 + v15) | 0
    v7 ^= v11
    v7 = (v7 >>> 12) | (v7 << 20)
    v3 = (v3 + v7 + m7) | 0
    v15 ^= v3
    v15 = (v15 >>> 8) | (v15 << 24)
    v11 = (v11 + v15) | 0
    v7 ^= v11
    v7 = (v7 >>> 7) | (v7 << 25)
    // G(0, 5, 10, 15, m8, m9)
    v0 = (v0 + v5 + m8) | 0
    v15 ^= v0
    v15 = (v15 >>> 16) | (v15 << 16)
    v10 = (v10 + v15) | 0
    v5 ^= v10
    v5 = (v5 >>> 12) | (v5 << 20)
    v0 = (v0 + v5 + m9) | 0
    v15 ^= v0
    v15 = (v15 >>> 8) | (v15 << 24)
    v10 = (v10 + v15) | 0
    v5 ^= v10
    v5 = (v5 >>> 7) | (v5 << 25)
    // G(1, 6, 11, 12, m10, m11)
    v1 = (v1 + v6 + m10) | 0
    v12 ^= v1
    v12 = (v12 >>> 16) | (v12 << 16)
    v11 = (v11 + v12) | 0
    v6 ^= v11
    v6 = (v6 >>> 12) | (v6 << 20)
    v1 = (v1 + v6 + m11) | 0
    v12 ^= v1
    v12 = (v12 >>> 8) | (v12 << 24)
    v11 = (v11 + v12) | 0
    v6 ^= v11
    v6 = (v6 >>> 7) | (v6 << 25)
    // G(2, 7, 8, 13, m12, m13)
    v2 = (v2 + v7 + m12) | 0
    v13 ^= v2
    v13 = (v13 >>> 16) | (v13 << 16)
    v8 = (v8 + v13) | 0
    v7 ^= v8
    v7 = (v7 >>> 12) | (v7 << 20)
    v2 = (v2 + v7 + m13) | 0
    v13 ^= v2
    v13 = (v13 >>> 8) | (v13 << 24)
    v8 = (v8 + v13) | 0
    v7 ^= v8
    v7 = (v7 >>> 7) | (v7 << 25)
    // G(3, 4, 9, 14, m14, m15)
    v3 = (v3 + v4 + m14) | 0
    v14 ^= v3
    v14 = (v14 >>> 16) | (v14 << 16)
    v9 = (v9 + v14) | 0
    v4 ^= v9
    v4 = (v4 >>> 12) | (v4 << 20)
    v3 = (v3 + v4 + m15) | 0
    v14 ^= v3
    v14 = (v14 >>> 8) | (v14 << 24)
    v9 = (v9 + v14) | 0
    v4 ^= v9
    v4 = (v4 >>> 7) | (v4 << 25)
    // BLAKE3's message permutation [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8].
    const p0 = m0
    const p1 = m1
    const p5 = m5
    const p8 = m8
    const p9 = m9
    const p11 = m11
    const p12 = m12
    m0 = m2
    m1 = m6
    m2 = m3
    m3 = m10
    m5 = p0
    m6 = m4
    m4 = m7
    m7 = m13
    m8 = p1
    m9 = p11
    m10 = p12
    m11 = p5
    m12 = p9
    m13 = m14
    m14 = m15
    m15 = p8
  }
  const base = index * 4
  out[base] = v0 ^ v8
  out[base + 1] = v1 ^ v9
  out[base + 2] = v2 ^ v10
  out[base + 3] = v3 ^ v11
}
