/**
 * A read-only pass over a whole WAL directory: every segment checked in order (one in memory at a
 * time), `checkpoint.meta` checked, the lock owner read. `inspect` and `verify` are views of it.
 * Nothing is locked, created or modified.
 */
import { Effect, type FileSystem, type Path } from "effect"
import type { CorruptionReason, IoError } from "../../WalError.ts"
import { CHECKPOINT_FILE } from "../checkpoint/checkpointStore.ts"
import { decodeCheckpoint } from "../format/checkpointRecord.ts"
import { EVENT_RECORD_BYTES } from "../format/layout.ts"
import { isAlive, LOCK_FILE, readLockOwner } from "../fs/directoryLock.ts"
import { readFileIfExists, readWholeFile } from "../fs/durable.ts"
import { listSegmentFiles } from "../segment/segmentCatalog.ts"
import { nameMismatchProblem, scanSegment } from "../segment/segmentScanner.ts"

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
}

export type CheckpointStatus =
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Valid"; readonly sequence: bigint; readonly timestampNanos: bigint }
  | { readonly _tag: "Invalid"; readonly detail: string }

export interface DirectoryScan {
  readonly dir: string
  readonly segments: ReadonlyArray<ScannedSegment>
  readonly checkpoint: CheckpointStatus
  readonly lock: { readonly pid: number; readonly alive: boolean } | undefined
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
            detail: decoded.detail
          }
        : undefined
    const owner = yield* readLockOwner(fs, path.join(dir, LOCK_FILE))
    const segments: Array<ScannedSegment> = []
    let expectedSeq: bigint | undefined
    const files = yield* listSegmentFiles(fs, path, dir)
    for (const [index, file] of files.entries()) {
      yield* onSegment(index, files.length, file.name)
      const bytes = yield* readWholeFile(fs, file.path)
      const expected = expectedSeq ?? file.firstSeq
      let events = 0
      const scan =
        expected === file.firstSeq
          ? scanSegment(bytes, expected, (batch) => {
              events += batch.payload.byteLength / EVENT_RECORD_BYTES
            })
          : {
              validBytes: 0,
              batchCount: 0,
              lastSeq: expected - 1n,
              problem: nameMismatchProblem(file.firstSeq, expected)
            }
      segments.push({
        name: file.name,
        path: file.path,
        sizeBytes: bytes.byteLength,
        validBytes: scan.validBytes,
        batches: scan.batchCount,
        events,
        firstSeq: file.firstSeq,
        lastSeq: scan.lastSeq
      })
      if (problem === undefined && scan.problem !== undefined) {
        problem =
          scan.problem._tag === "Unsupported"
            ? {
                file: file.path,
                offsetBytes: scan.problem.offsetBytes,
                reason: "UnsupportedVersion",
                detail: `version ${scan.problem.version}, flags ${scan.problem.flags}`
              }
            : { file: file.path, ...scan.problem }
      }
      expectedSeq = scan.lastSeq + 1n
    }
    return {
      dir,
      segments,
      checkpoint,
      lock: owner === undefined ? undefined : { pid: owner.pid, alive: isAlive(owner) },
      problem
    }
  })
