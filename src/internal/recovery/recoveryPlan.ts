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
 */
import type { RecoveryMode } from "../../WalConfig.ts"
import type { ScanProblem } from "../segment/segmentScanner.ts"

export type RecoveryDecision = "TruncateHere" | "TruncateHereAndQuarantineLater" | "Fail" | "FailUnsupported"

export const decideRecovery = (
  mode: RecoveryMode,
  problem: ScanProblem,
  isLastSegment: boolean,
): RecoveryDecision => {
  if (problem._tag === "Unsupported") return "FailUnsupported"
  switch (mode) {
    case "strict":
      return "Fail"
    case "tolerate-tail":
      return isLastSegment ? "TruncateHere" : "Fail"
    case "point-in-time":
      return isLastSegment ? "TruncateHere" : "TruncateHereAndQuarantineLater"
  }
}
