/**
 * Dedup keys (SPEC §3 "Deduplication"): the first 128 bits of BLAKE3-256 of an event's 21-byte
 * record, handled as four little-endian u32 words so that tables store them without objects.
 */
import { blake3Prefix128 } from "../format/checksum.ts"
import { DEDUP_KEY_BYTES } from "../format/layout.ts"

export const KEY_WORDS = DEDUP_KEY_BYTES / 4

/** The 16-byte key of one record. */
export const dedupKey = (record: Uint8Array): Uint8Array => blake3Prefix128(record)

/** Writes the key of `record` as four u32 words into `out` at word offset `index * 4`. */
export const dedupKeyInto = (record: Uint8Array, out: Uint32Array, index: number): void => {
  const digest = blake3Prefix128(record)
  const base = index * KEY_WORDS
  for (let w = 0; w < KEY_WORDS; w++) {
    const o = w * 4
    out[base + w] =
      ((digest[o] as number) |
        ((digest[o + 1] as number) << 8) |
        ((digest[o + 2] as number) << 16) |
        ((digest[o + 3] as number) << 24)) >>>
      0
  }
}
