/**
 * Recovery as a service: scans the directory once at open (docs/FORMAT.md "Recovery") and
 * provides what every later part starts from — the segments, the last sequence number, the
 * checkpoint, the replay and its report, and the dedup keys of the recent batches.
 *
 * Recovery returns the recent keys (16 bytes a key), so the dedup window is seeded from the
 * recovered log afterwards instead of from inside the scan.
 */
import { Clock, Context, Effect, FileSystem, Layer, Path } from "effect"
import { checksumReady } from "../format/checksum.ts"
import type { RecoveryReport } from "../recovery/RecoveryReport.ts"
import type { ReplayedEvents } from "../recovery/ReplayedEvents.ts"
import { recover } from "../recovery/recover.ts"
import type { SegmentInfo } from "../segment/SegmentInfo.ts"
import { Metrics } from "./Metrics.ts"
import { WalDirectory } from "./WalDirectory.ts"

export interface RecoveredLogShape {
  readonly segments: ReadonlyArray<SegmentInfo>
  readonly checkpoint: bigint
  /** The last sequence number in the log (0 when it holds none). */
  readonly lastSeq: bigint
  readonly replayed: ReplayedEvents
  readonly report: RecoveryReport
  /** Dedup keys (KEY_WORDS words each) of the events of batches inside the dedup window. */
  readonly recentKeys: Uint32Array
  readonly recentKeyCount: number
}

/** @internal */
export class RecoveredLog extends Context.Service<RecoveredLog, RecoveredLogShape>()(
  "tidal-wal/RecoveredLog"
) {
  static readonly layer = Layer.effect(
    RecoveredLog,
    Effect.gen(function* () {
      const { config, dir } = yield* WalDirectory
      const metrics = yield* Metrics
      const nowNanos = yield* Clock.currentTimeNanos
      // The WASM hasher, ready before the first batch is checked (until then hashing runs in JS).
      yield* checksumReady
      const recovered = yield* recover(yield* FileSystem.FileSystem, yield* Path.Path, {
        dir,
        recoveryMode: config.recoveryMode,
        replay: config.replay,
        recentSinceNanos: nowNanos - config.dedupWindowNanos
      }).pipe(Effect.withSpan("tidal-wal.recover", { attributes: { "wal.dir": dir } }))
      metrics.recovered(recovered.report.durationMillis, recovered.report.bytesScanned)
      metrics.segments(recovered.segments.length)
      return recovered
    })
  )
}
