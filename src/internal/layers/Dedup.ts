/**
 * The dedup window as a service, seeded from the recovered log: the keys of every batch still
 * inside the window when the WAL opened are duplicates, as they were before the restart. A window
 * of zero is the disabled implementation.
 */
import { Effect, Layer } from "effect"
import { DedupWindow, disabledDedupWindow } from "../dedup/DedupWindow.ts"
import { RecoveredLog } from "./RecoveredLog.ts"
import { WalDirectory } from "./WalDirectory.ts"

/** @internal */
export const DedupLayer = Layer.effect(
  DedupWindow,
  Effect.gen(function* () {
    const { config } = yield* WalDirectory
    // A window of zero turns deduplication off: every event is written.
    if (config.dedupWindowNanos === 0n) return disabledDedupWindow
    const recovered = yield* RecoveredLog
    const window = yield* DedupWindow.make(config.dedupWindowNanos)
    window.remember(recovered.recentKeys, recovered.recentKeyCount)
    return window
  })
)
