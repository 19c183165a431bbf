/**
 * A read-only pass over a whole WAL directory: every segment checked in order, chunk by chunk (one
 * chunk of memory, whatever a segment's size: segment/segmentScanner.ts), `checkpoint.meta`
 * checked, the lock owner read. `inspect` and `verify` are views of it. Nothing is locked,
 * created or modified.
 */
import { Effect, FileSystem, Path } from "effect"
import type { CorruptionError, CorruptionReason, IoError } from "../../WalError.ts"
import { CHECKPOINT_FILE } from "../checkpoint/checkpointStore.ts"
import { decodeCheckpoint } from "../format/checkpointRecord.ts"
import { EVENT_RECORD_BYTES } from "../format/layout.ts"
import { type LockStatus, lockStatus } from "../fs/directoryLock.ts"
import { type FileChunk, readFileIfExists } from "../fs/durable.ts"
import { classifyDamage, expectedFirstSeq, mismatchedNameScan } from "../segment/logRule.ts"
import type { SegmentFile } from "../segment/segmentCatalog.ts"
import { listSegmentFiles } from "../segment/segmentCatalog.ts"
import { type SegmentScan, scanSegmentFile } from "../segment/segmentScanner.ts"

export interface ScannedSegment {
  readonly name: string
  readonly path: string
  readonly sizeBytes: number
  readonly validBytes: number
  readonly batches: number
  readonly events: number
  readonly firstSeq: bigint
  readonly lastSeq: bigint
}

export interface DirectoryProblem {
  readonly file: string
  readonly offsetBytes: number
  readonly reason: CorruptionReason | "UnsupportedVersion"
  readonly detail: string
  /** Damage the shared rule reads as a torn tail: open (in its default mode) would cut it. */
  readonly tornTail: boolean
}

export type CheckpointStatus =
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Valid"; readonly sequence: bigint; readonly timestampNanos: bigint }
  | { readonly _tag: "Invalid"; readonly detail: string }

export interface DirectoryScan {
  readonly dir: string
  readonly segments: ReadonlyArray<ScannedSegment>
  readonly checkpoint: CheckpointStatus
  readonly lock: LockStatus
  /** The first problem found, in log order (checkpoint.meta first). */
  readonly problem: DirectoryProblem | undefined
}

export const scanDirectory = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  dir: string,
  onSegment: (index: number, total: number, name: string) => Effect.Effect<void> = () => Effect.void
): Effect.Effect<DirectoryScan, IoError> =>
  Effect.gen(function* () {
    const checkpointPath = path.join(dir, CHECKPOINT_FILE)
    const checkpointBytes = yield* readFileIfExists(fs, checkpointPath)
    const decoded = checkpointBytes === undefined ? undefined : decodeCheckpoint(checkpointBytes)
    const checkpoint: CheckpointStatus =
      decoded === undefined
        ? { _tag: "Missing" }
        : decoded._tag === "Valid"
          ? {
              _tag: "Valid",
              sequence: decoded.record.sequence,
              timestampNanos: decoded.record.timestampNanos
            }
          : { _tag: "Invalid", detail: decoded.detail }
    let problem: DirectoryProblem | undefined =
      decoded?._tag === "Invalid"
        ? {
            file: checkpointPath,
            offsetBytes: decoded.offsetBytes,
            reason: "BadCheckpoint",
            detail: decoded.detail,
            tornTail: false
          }
        : undefined
    const lock = yield* lockStatus(dir).pipe(
      Effect.provideService(FileSystem.FileSystem, fs),
      Effect.provideService(Path.Path, path)
    )
    const sequence = checkpoint._tag === "Valid" ? checkpoint.sequence : 0n
    const listed = yield* Effect.result(listSegmentFiles(fs, path, dir))
    if (listed._tag === "Failure") {
      if (listed.failure._tag === "IoError") return yield* listed.failure
      problem ??= corruptionProblem(listed.failure)
    }
    const files = listed._tag === "Success" ? listed.success : []
    const segments: Array<ScannedSegment> = []
    let previousLastSeq: bigint | undefined
    // One buffer serves every chunk of every segment, and the damage search after them.
    const buffer = { buffer: new Uint8Array(0) }
    for (const [index, file] of files.entries()) {
      yield* onSegment(index, files.length, file.name)
      const checked = yield* checkSegment(
        fs,
        file,
        buffer,
        previousLastSeq,
        sequence,
        index === files.length - 1
      )
      segments.push(checked.segment)
      problem ??= checked.problem
      previousLastSeq = checked.segment.lastSeq
    }
    return {
      dir,
      segments,
      checkpoint,
      lock,
      problem
    }
  })

// internals

const corruptionProblem = (error: CorruptionError): DirectoryProblem => ({
  file: error.file,
  offsetBytes: error.offsetBytes,
  reason: error.reason,
  detail: error.detail ?? "",
  tornTail: false
})

/** One segment by the shared rule (segment/logRule.ts): its counts, and its problem if any. */
const checkSegment = (
  fs: FileSystem.FileSystem,
  file: SegmentFile,
  buffer: { buffer: Uint8Array },
  previousLastSeq: bigint | undefined,
  checkpoint: bigint,
  isLast: boolean
): Effect.Effect<
  { readonly segment: ScannedSegment; readonly problem: DirectoryProblem | undefined },
  IoError
> =>
  Effect.gen(function* () {
    const expectedSeq = expectedFirstSeq(file.firstSeq, previousLastSeq, checkpoint)
    let events = 0
    const scanned: { readonly scan: SegmentScan; readonly lastChunk: FileChunk | undefined } =
      expectedSeq === file.firstSeq
        ? yield* scanSegmentFile(fs, file.path, expectedSeq, {
            onBatch: (batch) => {
              events += batch.payload.byteLength / EVENT_RECORD_BYTES
            },
            buffer
          })
        : { scan: mismatchedNameScan(file.firstSeq, expectedSeq), lastChunk: undefined }
    const { scan } = scanned
    const segment: ScannedSegment = {
      name: file.name,
      path: file.path,
      sizeBytes: scanned.lastChunk?.fileSizeBytes ?? file.sizeBytes,
      validBytes: scan.validBytes,
      batches: scan.batchCount,
      events,
      firstSeq: file.firstSeq,
      lastSeq: scan.lastSeq
    }
    if (scan.problem === undefined) return { segment, problem: undefined }
    const damage = yield* classifyDamage(scan.problem, {
      fs,
      path: file.path,
      chunk: scanned.lastChunk,
      scratch: buffer,
      isLastSegment: isLast,
      checkpoint,
      expectedSeq: scan.lastSeq + 1n
    })
    const found = damage._tag === "TornTail" ? scan.problem : damage.problem
    const problem: DirectoryProblem =
      found._tag === "Unsupported"
        ? {
            file: file.path,
            offsetBytes: found.offsetBytes,
            reason: "UnsupportedVersion",
            detail: `version ${found.version}, flags ${found.flags}`,
            tornTail: false
          }
        : { file: file.path, ...found, tornTail: damage._tag === "TornTail" }
    return { segment, problem }
  })
