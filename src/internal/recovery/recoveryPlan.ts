/**
 * The recovery decision table (docs/FORMAT.md, "Recovery"), as a pure function of the recovery
 * mode and what the damage is (segment/logRule.ts decides that, for open and readers alike).
 *
 * | mode            | torn tail (last segment)    | any other damage                            |
 * |-----------------|-----------------------------|---------------------------------------------|
 * | tolerate-tail   | quarantine + truncate tail  | fail (CorruptionError), change nothing      |
 * | point-in-time   | quarantine + truncate there | quarantine + truncate there, and every later segment |
 * | strict          | fail, change nothing        | fail, change nothing                        |
 *
 * A valid batch of an unknown version or flags fails open in every mode: it is a newer writer's
 * data, not garbage, and is never truncated.
 */
import type { RecoveryMode } from "../../WalConfig.ts"
import type { Damage } from "../segment/logRule.ts"

export type RecoveryDecision = "TruncateHere" | "TruncateHereAndQuarantineLater" | "Fail" | "FailUnsupported"

export const decideRecovery = (
  mode: RecoveryMode,
  damage: Damage,
  isLastSegment: boolean
): RecoveryDecision => {
  if (damage._tag === "Unsupported") return "FailUnsupported"
  switch (mode) {
    case "strict":
      return "Fail"
    case "tolerate-tail":
      return damage._tag === "TornTail" ? "TruncateHere" : "Fail"
    case "point-in-time":
      return isLastSegment ? "TruncateHere" : "TruncateHereAndQuarantineLater"
  }
}
