/**
 * The segment being written: appends whole batches and rotates before a batch that would make
 * the segment exceed `segmentMaxBytes` (SPEC §2 "Segment files").
 *
 * Writing and syncing are separate steps so the writer can have several syncs in flight while
 * writes stay in order: `writeBatch` writes and returns the one sync that makes that batch
 * durable, bound to the file it went to. A segment left at rotation is closed only after its last
 * pending sync; every batch in it is synced by then. The new segment's name is made durable by
 * syncing the directory before any batch goes into it.
 */
import { Effect, Exit, type FileSystem, type Path, Scope } from "effect"
import type { IoError } from "../../WalError.ts"
import { segmentName } from "../format/segmentName.ts"
import { io, openOwned, syncDirectory } from "../fs/durable.ts"
import type { SegmentInfo } from "../recovery/recover.ts"

export interface SegmentAppender {
  /**
   * Writes one encoded batch holding sequence numbers `firstSeq..lastSeq`; succeeds with the sync
   * that makes it durable. Calls must not overlap; the syncs may.
   */
  readonly writeBatch: (
    batch: Uint8Array,
    firstSeq: bigint,
    lastSeq: bigint
  ) => Effect.Effect<Effect.Effect<void, IoError>, IoError>
  /** The segments, oldest first; the last one is being written. */
  readonly segments: () => ReadonlyArray<SegmentInfo>
  readonly segmentCount: () => number
  /** Forgets segments that were deleted (truncation). */
  readonly dropSegments: (names: ReadonlySet<string>) => void
  readonly close: Effect.Effect<void>
}

interface OpenSegment {
  readonly file: FileSystem.File
  readonly scope: Scope.Closeable
  readonly path: string
  info: SegmentInfo
  pendingSyncs: number
  leaving: boolean
}

export const makeSegmentAppender = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  dir: string,
  segmentMaxBytes: number,
  recovered: ReadonlyArray<SegmentInfo>
): SegmentAppender => {
  const known: Array<SegmentInfo> = [...recovered]
  let current: OpenSegment | undefined

  /** Leaves the current segment: closed now if no sync is pending on it, else after the last one. */
  const closeCurrent = Effect.suspend(() => {
    const leaving = current
    current = undefined
    if (leaving === undefined) return Effect.void
    leaving.leaving = true
    return leaving.pendingSyncs === 0 ? Scope.close(leaving.scope, Exit.void) : Effect.void
  })

  const openSegment = (info: SegmentInfo, isNew: boolean) =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const file = yield* openOwned(fs, info.path, "a", scope).pipe(
        Effect.onError(() => Scope.close(scope, Exit.void))
      )
      if (isNew) yield* syncDirectory(fs, dir)
      current = { file, scope, path: info.path, info, pendingSyncs: 0, leaving: false }
      return current
    })

  const segmentFor = (firstSeq: bigint, batchBytes: number) =>
    Effect.gen(function* () {
      if (current !== undefined && current.info.sizeBytes + batchBytes <= segmentMaxBytes) return current
      if (current === undefined) {
        const last = known.at(-1)
        // Resume the last segment on open when it ends right before the batch and has room.
        if (
          last !== undefined &&
          last.lastSeq + 1n === firstSeq &&
          last.sizeBytes + batchBytes <= segmentMaxBytes
        ) {
          return yield* openSegment(last, false)
        }
      }
      yield* closeCurrent
      const name = segmentName(firstSeq)
      const info: SegmentInfo = {
        name,
        path: path.join(dir, name),
        sizeBytes: 0,
        batchCount: 0,
        firstSeq,
        lastSeq: firstSeq - 1n
      }
      const opened = yield* openSegment(info, true)
      known.push(info)
      return opened
    })

  return {
    writeBatch: (batch, firstSeq, lastSeq) =>
      Effect.gen(function* () {
        const segment = yield* segmentFor(firstSeq, batch.byteLength)
        yield* io("write", segment.path)(segment.file.writeAll(batch))
        const info: SegmentInfo = {
          ...segment.info,
          sizeBytes: segment.info.sizeBytes + batch.byteLength,
          batchCount: segment.info.batchCount + 1,
          lastSeq
        }
        segment.info = info
        known[known.length - 1] = info
        segment.pendingSyncs++
        return io(
          "sync",
          segment.path
        )(segment.file.sync).pipe(
          Effect.ensuring(
            Effect.suspend(() => {
              segment.pendingSyncs--
              return segment.leaving && segment.pendingSyncs === 0
                ? Scope.close(segment.scope, Exit.void)
                : Effect.void
            })
          )
        )
      }),
    segments: () => known.slice(),
    segmentCount: () => known.length,
    dropSegments: (names) => {
      for (let i = known.length - 1; i >= 0; i--) {
        const info = known[i]
        if (info !== undefined && names.has(info.name)) known.splice(i, 1)
      }
    },
    close: closeCurrent
  }
}
