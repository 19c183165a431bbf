/**
 * BLAKE3-256 for batch and checkpoint checksums; with blake3Record.ts (dedup keys), the only
 * modules that know which BLAKE3 implementation runs.
 *
 * hash-wasm's reused WASM hasher gives the same digests as `@noble/hashes` (the vectors and a
 * property test check both) and is 7–17× faster here; a batch is hashed once per batch, over
 * header and payload. The hasher is created once, when this module loads.
 */
import { createBLAKE3 } from "hash-wasm"
import { CHECKSUM_BYTES } from "./layout.ts"

const hasher256 = await createBLAKE3(CHECKSUM_BYTES * 8)

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

/** Compares `expected` with the 32 bytes at `offset` of `bytes`, without allocating. */
export const checksumEquals = (expected: Uint8Array, bytes: Uint8Array, offset: number): boolean => {
  for (let i = 0; i < CHECKSUM_BYTES; i++) {
    if (expected[i] !== bytes[offset + i]) return false
  }
  return true
}
