/**
 * Recovery (docs/FORMAT.md §7 "Recovery"): scans every segment in order, one at a time,
 * finds where the valid log ends, applies the recovery plan and collects the replay.
 *
 * Nothing is modified until the whole decision is known: a failing mode leaves every byte as it
 * was, and a truncating one copies to quarantine/ before it cuts.
 *
 * Segments are read in chunks (segment/segmentScanner.ts), so memory stays bounded whatever a
 * file's size; what the replay keeps is the valid records it hands out. The next segment is read
 * while the current one's last chunk is checked: reading is the kernel copying from the page cache
 * on a thread-pool thread, checking is BLAKE3 on this one, so the two overlap as long as the check
 * yields now and then (`SCAN_STEP_BYTES`) for the read to take its next step.
 *
 * Before it returns, recovery makes durable what a process kill may have left only in the page
 * cache (`syncWhatMayNotBeDurable`), and it returns the dedup keys of the recent batches rather
 * than seeding a window itself.
 */
import { Clock, Effect, Fiber, type FileSystem, type Path } from "effect"
import type { RecoveryMode, ReplayMode } from "../../WalConfig.ts"
import type { CorruptionError, IoError, UnsupportedVersionError } from "../../WalError.ts"
import { readCheckpoint } from "../checkpoint/checkpointStore.ts"
import { dedupKeyInto, KEY_WORDS } from "../dedup/dedupKey.ts"
import { EVENT_RECORD_BYTES } from "../format/layout.ts"
import { type FileChunk, READ_CHUNK_BYTES, readFileChunk, syncDirectory, syncFile } from "../fs/durable.ts"
import { classifyDamage, expectedFirstSeq, mismatchedNameScan } from "../segment/logRule.ts"
import type { SegmentInfo } from "../segment/SegmentInfo.ts"
import { listSegmentFiles, type SegmentFile } from "../segment/segmentCatalog.ts"
import {
  problemError,
  type ScannedBatch,
  type SegmentFileScan,
  scanSegmentFile
} from "../segment/segmentScanner.ts"
import { makeQuarantine } from "./quarantine.ts"
import type { RecoveryReport } from "./RecoveryReport.ts"
import { ReplayBuilder, type ReplayedEvents } from "./ReplayedEvents.ts"
import { decideRecovery } from "./recoveryPlan.ts"

export interface RecoveryOptions {
  readonly dir: string
  readonly recoveryMode: RecoveryMode
  readonly replay: ReplayMode
  /** The dedup keys of events in batches stamped at or after this time are returned (`recentKeys`). */
  readonly recentSinceNanos: bigint
}

export interface RecoveredLog {
  readonly segments: ReadonlyArray<SegmentInfo>
  readonly checkpoint: bigint
  readonly lastSeq: bigint
  readonly replayed: ReplayedEvents
  /**
   * The dedup keys (`KEY_WORDS` words each, dedup/dedupKey.ts) of every event of the recovered log
   * in a batch stamped at or after `recentSinceNanos`, in log order: the first `recentKeyCount`
   * keys, to seed the dedup window with.
   */
  readonly recentKeys: Uint32Array
  readonly recentKeyCount: number
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
    const collector = new BatchCollector(options, checkpoint)
    const segments: Array<SegmentInfo> = []
    const quarantined: Array<string> = []
    let batchesScanned = 0
    let bytesTruncated = 0
    let bytesScanned = 0
    const reads = new ChunkReads(fs, files)
    let lastSeq = 0n
    /** Where the segment before the current one ended: rule 1 of logRule.ts. */
    let previousLastSeq: bigint | undefined

    for (let index = 0; index < files.length; index++) {
      const file = files[index] as SegmentFile
      const isLast = index === files.length - 1
      const expectedSeq = expectedFirstSeq(file.firstSeq, previousLastSeq, checkpoint)
      const scanned =
        expectedSeq === file.firstSeq
          ? yield* scanCollecting(fs, file, index, expectedSeq, collector, reads)
          : { scan: mismatchedNameScan(file.firstSeq, expectedSeq), lastChunk: undefined, bytesRead: 0 }
      const { scan } = scanned
      bytesScanned += scanned.bytesRead
      batchesScanned += scan.batchCount
      if (scan.problem === undefined) {
        segments.push(segmentInfo(file, scan.validBytes, scan.batchCount, scan.lastSeq))
        lastSeq = scan.batchCount > 0 ? scan.lastSeq : lastSeq
        previousLastSeq = scan.lastSeq
        continue
      }
      // No more reading ahead: what follows this segment is left as it is, or moved whole.
      yield* reads.stop
      const damage = yield* classifyDamage(scan.problem, {
        fs,
        path: file.path,
        chunk: scanned.lastChunk,
        scratch: reads.scratch,
        isLastSegment: isLast,
        checkpoint,
        expectedSeq: scan.lastSeq + 1n
      })
      const decision = decideRecovery(options.recoveryMode, damage, isLast)
      if (decision === "Fail" || decision === "FailUnsupported")
        return yield* problemError(file.path, damage._tag === "TornTail" ? scan.problem : damage.problem)
      // Truncating decisions: copy first, then cut.
      const quarantine = makeQuarantine(fs, path, dir, reads.scratch)
      const cut = yield* quarantine.cutTail(file.path, scan.validBytes)
      quarantined.push(cut.copyPath)
      bytesTruncated += cut.bytesCut
      if (scan.validBytes > 0)
        segments.push(segmentInfo(file, scan.validBytes, scan.batchCount, scan.lastSeq))
      if (scan.batchCount > 0) lastSeq = scan.lastSeq
      for (const later of files.slice(index + 1)) {
        quarantined.push(yield* quarantine.moveWhole(later.path, later.sizeBytes))
        bytesTruncated += later.sizeBytes
      }
      break
    }

    yield* syncWhatMayNotBeDurable(fs, dir, segments)
    const replayed = collector.replay.build()
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
    const { recentKeys, recentKeyCount } = collector
    return { segments, checkpoint, lastSeq, replayed, recentKeys, recentKeyCount, report }
  })

// internals

/** Bytes checked between two yields: about a millisecond of BLAKE3 here. */
const SCAN_STEP_BYTES = 1024 * 1024

/**
 * Scans segment `index` chunk by chunk into `collector`; the next segment is read while this
 * one's last chunk is checked.
 */
const scanCollecting = (
  fs: FileSystem.FileSystem,
  file: SegmentFile,
  index: number,
  expectedSeq: bigint,
  collector: BatchCollector,
  reads: ChunkReads
): Effect.Effect<SegmentFileScan, IoError> =>
  Effect.flatMap(reads.take(index), (firstChunk) =>
    scanSegmentFile(fs, file.path, expectedSeq, {
      onBatch: (batch, chunk) => collector.collect(batch, chunk.bytes),
      buffer: reads.bufferOf(index),
      firstChunk,
      beforeScan: (chunk) => (chunk.reachesEndOfFile ? reads.readAhead(index + 1) : Effect.void),
      // Taken in chunk by chunk: the replay keeps a chunk's buffer or copies its records out.
      afterScan: () => Effect.sync(() => reads.sealed(index, collector.replay.seal())),
      stepBytes: SCAN_STEP_BYTES
    })
  )

/**
 * Makes durable whatever recovery is about to hand out that a process kill may have left only in
 * the page cache (docs/FORMAT.md §5): a replayed event may be materialized and checkpointed by the
 * consumer, so a later power cut must not take it back.
 *
 * Which bytes can be in that state: the writer creates a segment only after every batch of the
 * previous one synced, so only the last segment can hold batches written and never synced; when
 * it holds no batch (created, killed before its first write), the segment before it holds the last
 * batch, and is synced too for good measure. A segment's name, a removal by truncation or an
 * earlier recovery, and the rename of `checkpoint.meta` live in the directory: it is synced last.
 */
const syncWhatMayNotBeDurable = (
  fs: FileSystem.FileSystem,
  dir: string,
  segments: ReadonlyArray<SegmentInfo>
): Effect.Effect<void, IoError> =>
  Effect.gen(function* () {
    const resumed = segments.at(-1)
    const lastWithBatches = segments.findLast((segment) => segment.batchCount > 0)
    for (const segment of new Set([lastWithBatches, resumed])) {
      if (segment !== undefined) yield* syncFile(fs, segment.path)
    }
    yield* syncDirectory(fs, dir)
  })

/** What recovery keeps of each valid batch: the replay, and the keys of recent events. */
class BatchCollector {
  readonly replay = new ReplayBuilder()
  recentKeys = new Uint32Array(KEY_WORDS * 1024)
  recentKeyCount = 0
  private readonly options: RecoveryOptions
  private readonly checkpoint: bigint

  constructor(options: RecoveryOptions, checkpoint: bigint) {
    this.options = options
    this.checkpoint = checkpoint
  }

  /** Takes in a valid batch, whose payload is a view into `chunkBytes`. */
  collect(batch: ScannedBatch, chunkBytes: Uint8Array): void {
    const { payload } = batch
    const { firstSeq, batchTimestampNanos } = batch.header
    if (batchTimestampNanos >= this.options.recentSinceNanos) this.rememberKeys(payload)
    if (this.options.replay === "none") return
    const lastSeq = firstSeq + BigInt(payload.byteLength / EVENT_RECORD_BYTES) - 1n
    if (lastSeq <= this.checkpoint) return
    const skip = firstSeq > this.checkpoint ? 0 : Number(this.checkpoint - firstSeq + 1n)
    const payloadStart = payload.byteOffset - chunkBytes.byteOffset
    this.replay.add(
      chunkBytes,
      payloadStart + skip * EVENT_RECORD_BYTES,
      payloadStart + payload.byteLength,
      firstSeq + BigInt(skip)
    )
  }

  private rememberKeys(records: Uint8Array): void {
    const count = records.byteLength / EVENT_RECORD_BYTES
    const needed = (this.recentKeyCount + count) * KEY_WORDS
    if (needed > this.recentKeys.length) {
      const grown = new Uint32Array(Math.max(needed, this.recentKeys.length * 2))
      grown.set(this.recentKeys.subarray(0, this.recentKeyCount * KEY_WORDS))
      this.recentKeys = grown
    }
    for (let offset = 0; offset < records.byteLength; offset += EVENT_RECORD_BYTES) {
      dedupKeyInto(records, offset, this.recentKeys, this.recentKeyCount++)
    }
  }
}

/**
 * The read buffers of recovery and its read-ahead. Each segment is done with (replay taken in,
 * tail quarantined) before the one after next is read, so two buffers serve them all, one being
 * checked and one being filled; a buffer the replay keeps is replaced by a new one. The damage
 * search and the quarantine copy read through a third, `scratch`, allocated only if they read.
 */
class ChunkReads {
  readonly scratch = { buffer: new Uint8Array(0) }
  private readonly buffers = [{ buffer: new Uint8Array(0) }, { buffer: new Uint8Array(0) }]
  private readonly fs: FileSystem.FileSystem
  private readonly files: ReadonlyArray<SegmentFile>
  private ahead: { readonly index: number; readonly fiber: Fiber.Fiber<FileChunk, IoError> } | undefined

  constructor(fs: FileSystem.FileSystem, files: ReadonlyArray<SegmentFile>) {
    this.fs = fs
    this.files = files
  }

  bufferOf(index: number): { buffer: Uint8Array } {
    return this.buffers[index % 2] as { buffer: Uint8Array }
  }

  /** Starts reading the first chunk of segment `index`, if there is one. */
  readAhead(index: number): Effect.Effect<void> {
    const file = this.files[index]
    if (file === undefined || this.ahead !== undefined) return Effect.void
    return Effect.map(
      Effect.forkChild(readFileChunk(this.fs, file.path, 0, READ_CHUNK_BYTES, this.bufferOf(index)), {
        startImmediately: true
      }),
      (fiber) => {
        this.ahead = { index, fiber }
      }
    )
  }

  /** The first chunk of segment `index` if it was read ahead, else `undefined` (read it then). */
  take(index: number): Effect.Effect<FileChunk | undefined, IoError> {
    const ahead = this.ahead
    if (ahead === undefined || ahead.index !== index) return Effect.succeed(undefined)
    this.ahead = undefined
    return Fiber.join(ahead.fiber)
  }

  /** After a chunk of segment `index` was taken in: a buffer the replay keeps is not read into again. */
  sealed(index: number, kept: boolean): void {
    if (kept) this.bufferOf(index).buffer = new Uint8Array(0)
  }

  /** Stops any read ahead. */
  get stop(): Effect.Effect<void> {
    const ahead = this.ahead
    this.ahead = undefined
    return ahead === undefined ? Effect.void : Fiber.interrupt(ahead.fiber)
  }
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
