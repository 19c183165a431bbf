/**
 * Every size, magic number and version of format v1 (docs/FORMAT.md §2–§4), in one place.
 *
 * The relations between them are checked when the module loads, so a careless edit fails at
 * start-up rather than writing bytes another implementation cannot read.
 */

export const EVENT_RECORD_BYTES = 21
export const BATCH_HEADER_BYTES = 64
export const BATCH_MAGIC = 0x54494c44
export const BATCH_VERSION = 1
export const BATCH_FLAGS = 0
/** The checksum covers header bytes [0, 32) and then the payload. */
export const BATCH_CHECKSUMMED_HEADER_BYTES = 32
export const CHECKSUM_BYTES = 32

export const CHECKPOINT_FILE_BYTES = 56
export const CHECKPOINT_MAGIC = 0x54434b50
export const CHECKPOINT_VERSION = 1
export const CHECKPOINT_CHECKSUMMED_BYTES = 24

export const DEDUP_KEY_BYTES = 16
export const U32_MAX = 0xffff_ffff
export const U64_MAX = 0xffff_ffff_ffff_ffffn

/** The largest event count whose payload length still fits the u32 `payload_len` field. */
export const MAX_EVENTS_PER_BATCH = Math.floor(U32_MAX / EVENT_RECORD_BYTES)

if (BATCH_CHECKSUMMED_HEADER_BYTES + CHECKSUM_BYTES !== BATCH_HEADER_BYTES) {
  throw new Error("format v1: checksum must end the batch header")
}
if (CHECKPOINT_CHECKSUMMED_BYTES + CHECKSUM_BYTES !== CHECKPOINT_FILE_BYTES) {
  throw new Error("format v1: checksum must end checkpoint.meta")
}
