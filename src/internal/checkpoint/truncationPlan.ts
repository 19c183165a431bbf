/**
 * Which segments `truncateBefore(seq)` may delete (docs/FORMAT.md §9 "Checkpoint and truncation"): every
 * segment whose last sequence number is below `seq`, never the last one (it is being written).
 */
import type { SegmentInfo } from "../segment/SegmentInfo.ts"

export const segmentsToDelete = (
  segments: ReadonlyArray<SegmentInfo>,
  seq: bigint
): ReadonlyArray<SegmentInfo> => segments.slice(0, -1).filter((segment) => segment.lastSeq < seq)
