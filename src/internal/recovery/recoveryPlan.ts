/**
 * The recovery decision table (SPEC §3 "Open, recovery and replay"), as a pure function.
 *
 * | mode            | problem in the last segment | problem in an earlier segment            |
 * |-----------------|-----------------------------|------------------------------------------|
 * | tolerate-tail   | quarantine + truncate tail  | fail (CorruptionError), change nothing    |
 * | point-in-time   | quarantine + truncate tail  | quarantine + truncate, quarantine the rest |
 * | strict          | fail, change nothing        | fail, change nothing                      |
 *
 * A valid batch of an unknown version or flags fails open in every mode: it is a newer writer's
 * data, not garbage, and is never truncated.
 *
 * A torn write leaves a batch that fails its bounds or checksum; it never leaves an intact batch
 * with the wrong sequence number, nor a segment whose name breaks the sequence. Those mean data
 * is missing (a deleted or misplaced segment), so even in the last segment `tolerate-tail` treats
 * them as corruption rather than a tail to cut.
 */
import type { RecoveryMode } from "../../WalConfig.ts"
import type { ScanProblem } from "../segment/segmentScanner.ts"

export type RecoveryDecision = "TruncateHere" | "TruncateHereAndQuarantineLater" | "Fail" | "FailUnsupported"

export const decideRecovery = (
  mode: RecoveryMode,
  problem: ScanProblem,
  isLastSegment: boolean
): RecoveryDecision => {
  if (problem._tag === "Unsupported") return "FailUnsupported"
  const isTornWrite = isTornWriteProblem(problem)
  switch (mode) {
    case "strict":
      return "Fail"
    case "tolerate-tail":
      return isLastSegment && isTornWrite ? "TruncateHere" : "Fail"
    case "point-in-time":
      return isLastSegment ? "TruncateHere" : "TruncateHereAndQuarantineLater"
  }
}

/** Whether a problem can be what a crash mid-write leaves behind (see the module comment). */
export const isTornWriteProblem = (problem: ScanProblem): boolean =>
  problem._tag === "Invalid" && problem.reason !== "SequenceGap" && problem.reason !== "SegmentNameMismatch"
