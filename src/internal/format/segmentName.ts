/**
 * Segment file names (docs/FORMAT.md §3 "Segment files"): `wal-{first_seq:020}.seg`.
 *
 * Zero padding to 20 digits makes lexical order equal numeric order for every u64.
 */
import { U64_MAX } from "./layout.ts"

const SEGMENT_NAME = /^wal-(\d{20})\.seg$/

export const segmentName = (firstSeq: bigint): string => `wal-${firstSeq.toString().padStart(20, "0")}.seg`

/** The first sequence number a segment file name promises, or `undefined` for any other name. */
export const parseSegmentName = (name: string): bigint | undefined => {
  const match = SEGMENT_NAME.exec(name)
  if (match === null || match[1] === undefined) return undefined
  const firstSeq = BigInt(match[1])
  return firstSeq >= 1n && firstSeq <= U64_MAX ? firstSeq : undefined
}
