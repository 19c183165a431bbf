/**
 * BLAKE3 for checksums and dedup keys; the only module that knows which implementation runs.
 *
 * hash-wasm's reused WASM hasher gives the same digests as `@noble/hashes` (the vectors and a
 * property test check both) and is several times faster on the short inputs of the append path
 * (see bench/codec.bench.ts). The hasher is created once, when this module loads.
 */
import { createBLAKE3 } from "hash-wasm"
import { CHECKSUM_BYTES, DEDUP_KEY_BYTES } from "./layout.ts"

const hasher256 = await createBLAKE3(CHECKSUM_BYTES * 8)
const hasher128 = await createBLAKE3(DEDUP_KEY_BYTES * 8)

/** BLAKE3-256 of `first ‖ second`, written into `target` at `targetOffset`. */
export const blake3Into = (
  first: Uint8Array,
  second: Uint8Array | undefined,
  target: Uint8Array,
  targetOffset: number
): void => {
  hasher256.init()
  hasher256.update(first)
  if (second !== undefined) hasher256.update(second)
  target.set(hasher256.digest("binary"), targetOffset)
}

/** BLAKE3-256 of `first ‖ second`. */
export const blake3 = (first: Uint8Array, second?: Uint8Array): Uint8Array => {
  const out = new Uint8Array(CHECKSUM_BYTES)
  blake3Into(first, second, out, 0)
  return out
}

/** The first 128 bits of BLAKE3 of `input` (BLAKE3's output is a prefix-stable stream). */
export const blake3Prefix128 = (input: Uint8Array): Uint8Array => {
  hasher128.init()
  hasher128.update(input)
  return hasher128.digest("binary")
}

/** Compares `expected` with the 32 bytes at `offset` of `bytes`, without allocating. */
export const checksumEquals = (expected: Uint8Array, bytes: Uint8Array, offset: number): boolean => {
  for (let i = 0; i < CHECKSUM_BYTES; i++) {
    if (expected[i] !== bytes[offset + i]) return false
  }
  return true
}
