/**
 * Recovery (SPEC §3 "Open, recovery and replay"): scans every segment in order, one at a time,
 * finds where the valid log ends, applies the recovery plan and collects the replay.
 *
 * Nothing is modified until the whole decision is known: a failing mode leaves every byte as it
 * was, and a truncating one copies to quarantine/ before it cuts.
 *
 * The next segment is read while the current one is checked: reading is the kernel copying from
 * the page cache on a thread-pool thread, checking is BLAKE3 on this one, so the two overlap as
 * long as the check yields now and then (`scanInSteps`) for the read to take its next step.
 */
import { Clock, Effect, Fiber, type FileSystem, type Path } from "effect"
import type { RecoveryMode, ReplayMode } from "../../WalConfig.ts"
import type { CorruptionError, IoError, UnsupportedVersionError } from "../../WalError.ts"
import { readCheckpoint } from "../checkpoint/checkpointStore.ts"
import { BATCH_HEADER_BYTES, EVENT_RECORD_BYTES } from "../format/layout.ts"
import { readWholeFile } from "../fs/durable.ts"
import { classifyDamage, expectedFirstSeq, mismatchedNameScan } from "../segment/logRule.ts"
import { listSegmentFiles, type SegmentFile } from "../segment/segmentCatalog.ts"
import {
  problemError,
  type ScannedBatch,
  type SegmentScan,
  SegmentScanner
} from "../segment/segmentScanner.ts"
import { makeQuarantine } from "./quarantine.ts"
import type { RecoveryReport } from "./RecoveryReport.ts"
import { ReplayBuilder, type ReplayedEvents } from "./ReplayedEvents.ts"
import { decideRecovery } from "./recoveryPlan.ts"

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

export interface RecoveryOptions {
  readonly dir: string
  readonly recoveryMode: RecoveryMode
  readonly replay: ReplayMode
  /** Batches stamped at or after this time are handed to `onRecentBatch` (dedup seeding). */
  readonly recentSinceNanos: bigint
  readonly onRecentBatch: (records: Uint8Array) => void
}

export interface RecoveredLog {
  readonly segments: ReadonlyArray<SegmentInfo>
  readonly checkpoint: bigint
  readonly lastSeq: bigint
  readonly replayed: ReplayedEvents
  readonly report: RecoveryReport
}

export const recover = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  options: RecoveryOptions
): Effect.Effect<RecoveredLog, IoError | CorruptionError | UnsupportedVersionError> =>
  Effect.gen(function* () {
    const startedMillis = yield* Clock.currentTimeMillis
    const { dir } = options
    const checkpoint = (yield* readCheckpoint(fs, path, dir)).sequence
    const files = yield* listSegmentFiles(fs, path, dir)
    const replay = new ReplayBuilder()
    const segments: Array<SegmentInfo> = []
    const quarantined: Array<string> = []
    let batchesScanned = 0
    let bytesTruncated = 0
    let bytesScanned = 0
    // Each segment is done with (replay taken in, dedup seeded, tail quarantined) before the one
    // after next is read, so two buffers serve them all: one being checked, one being filled.
    // A buffer the replay keeps is replaced by a new one.
    const buffers = [{ buffer: new Uint8Array(0) }, { buffer: new Uint8Array(0) }]
    const readAhead = (index: number) => {
      const file = files[index]
      return file === undefined
        ? Effect.succeed(undefined)
        : Effect.forkChild(
            readWholeFile(fs, file.path, buffers[index % 2] ?? { buffer: new Uint8Array(0) }),
            {
              startImmediately: true
            }
          )
    }
    let lastSeq = 0n
    /** Where the segment before the current one ended: rule 1 of logRule.ts. */
    let previousLastSeq: bigint | undefined
    let next = yield* readAhead(0)

    for (let index = 0; index < files.length; index++) {
      const file = files[index] as SegmentFile
      const isLast = index === files.length - 1
      const expectedSeq = expectedFirstSeq(file.firstSeq, previousLastSeq, checkpoint)
      if (next === undefined) break
      const bytes = yield* Fiber.join(next)
      next = yield* readAhead(index + 1)
      bytesScanned += bytes.byteLength
      const scan =
        expectedSeq === file.firstSeq
          ? yield* scanInSteps(
              new SegmentScanner(bytes, expectedSeq, (batch) => {
                collectBatch(replay, options, checkpoint, bytes, batch)
              })
            )
          : mismatchedNameScan(file.firstSeq, expectedSeq)
      batchesScanned += scan.batchCount
      if (replay.seal()) buffers[index % 2] = { buffer: new Uint8Array(0) }
      if (scan.problem === undefined) {
        segments.push(segmentInfo(file, bytes.byteLength, scan.batchCount, scan.lastSeq))
        lastSeq = scan.batchCount > 0 ? scan.lastSeq : lastSeq
        previousLastSeq = scan.lastSeq
        continue
      }
      // No more reading: what follows this segment is left as it is, or moved whole.
      if (next !== undefined) yield* Fiber.interrupt(next)
      const damage = classifyDamage(scan.problem, {
        bytes,
        isLastSegment: isLast,
        checkpoint,
        expectedSeq: scan.lastSeq + 1n
      })
      const decision = decideRecovery(options.recoveryMode, damage, isLast)
      if (decision === "Fail" || decision === "FailUnsupported")
        return yield* problemError(file.path, damage._tag === "TornTail" ? scan.problem : damage.problem)
      // Truncating decisions: copy first, then cut.
      const quarantine = makeQuarantine(fs, path, dir)
      quarantined.push(yield* quarantine.cutTail(file.path, bytes, scan.validBytes))
      bytesTruncated += bytes.byteLength - scan.validBytes
      if (scan.validBytes > 0)
        segments.push(segmentInfo(file, scan.validBytes, scan.batchCount, scan.lastSeq))
      if (scan.batchCount > 0) lastSeq = scan.lastSeq
      for (const later of files.slice(index + 1)) {
        quarantined.push(yield* quarantine.moveWhole(later.path, later.sizeBytes))
        bytesTruncated += later.sizeBytes
      }
      break
    }

    const replayed = replay.build()
    const durationMillis = (yield* Clock.currentTimeMillis) - startedMillis
    const report: RecoveryReport = {
      segmentsScanned: files.length,
      bytesScanned,
      batchesScanned,
      eventsReplayed: replayed.length,
      bytesTruncated,
      filesQuarantined: quarantined,
      checkpoint,
      lastSeq,
      durationMillis
    }
    return { segments, checkpoint, lastSeq, replayed, report }
  })

// internals

/** Bytes checked between two yields: about a millisecond of BLAKE3 here. */
const SCAN_STEP_BYTES = 1024 * 1024

/**
 * Runs a scan to its end, yielding to the event loop every `SCAN_STEP_BYTES`: each yield lets the
 * read-ahead take its next step (open, stat, read), so the next segment's read runs while this
 * one is checked instead of after it.
 */
const scanInSteps = (scanner: SegmentScanner): Effect.Effect<SegmentScan> =>
  Effect.gen(function* () {
    for (;;) {
      const result = scanner.advance(SCAN_STEP_BYTES)
      if (result !== undefined) return result
      yield* Effect.yieldNow
    }
  })

const collectBatch = (
  replay: ReplayBuilder,
  options: RecoveryOptions,
  checkpoint: bigint,
  segmentBytes: Uint8Array,
  batch: ScannedBatch
): void => {
  const { payload } = batch
  const { firstSeq, batchTimestampNanos } = batch.header
  if (batchTimestampNanos >= options.recentSinceNanos) options.onRecentBatch(payload)
  if (options.replay === "none") return
  const lastSeq = firstSeq + BigInt(payload.byteLength / EVENT_RECORD_BYTES) - 1n
  if (lastSeq <= checkpoint) return
  const skip = firstSeq > checkpoint ? 0 : Number(checkpoint - firstSeq + 1n)
  const payloadStart = batch.offsetBytes + BATCH_HEADER_BYTES
  replay.add(
    segmentBytes,
    payloadStart + skip * EVENT_RECORD_BYTES,
    payloadStart + payload.byteLength,
    firstSeq + BigInt(skip)
  )
}

const segmentInfo = (
  file: SegmentFile,
  sizeBytes: number,
  batchCount: number,
  lastSeq: bigint
): SegmentInfo => ({
  name: file.name,
  path: file.path,
  sizeBytes,
  batchCount,
  firstSeq: file.firstSeq,
  lastSeq: batchCount > 0 ? lastSeq : file.firstSeq - 1n
})
