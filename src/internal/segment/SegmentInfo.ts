/**
 * A segment file as the log knows it: its name, where it is, how much it holds. Shared by
 * recovery (which finds the segments), the appender (which extends them) and truncation (which
 * deletes them), so it lives with the segments, not with any one of them.
 */

/** A segment as the log knows it after recovery. @category models */
export interface SegmentInfo {
  readonly name: string
  readonly path: string
  readonly sizeBytes: number
  readonly batchCount: number
  readonly firstSeq: bigint
  /** `firstSeq - 1` for a segment without batches. */
  readonly lastSeq: bigint
}
