/**
 * Dedup keys (docs/FORMAT.md §10 "Deduplication"): the first 128 bits of BLAKE3-256 of an event's 21-byte
 * record, handled as four little-endian u32 words so that tables store them without objects.
 */
import { recordKeyInto } from "../format/blake3Record.ts"
import { DEDUP_KEY_BYTES } from "../format/layout.ts"

export const KEY_WORDS = DEDUP_KEY_BYTES / 4

/** Writes the key of the record at `offset` of `bytes` as words `4 * index ..` of `out`. */
export const dedupKeyInto: (bytes: Uint8Array, offset: number, out: Uint32Array, index: number) => void =
  recordKeyInto

/** The 16 key bytes of the record at the start of `record` (for tools and tests; allocates). */
export const dedupKey = (record: Uint8Array): Uint8Array => {
  const words = new Uint32Array(KEY_WORDS)
  recordKeyInto(record, 0, words, 0)
  const key = new Uint8Array(DEDUP_KEY_BYTES)
  const view = new DataView(key.buffer)
  for (let w = 0; w < KEY_WORDS; w++) view.setUint32(w * 4, words[w] as number, true)
  return key
}
