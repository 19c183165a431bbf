/**
 * The segment being written: appends whole batches, one sync each, and rotates before a batch
 * that would make the segment exceed `segmentMaxBytes` (SPEC §2 "Segment files").
 *
 * Every batch is synced when it is written, so the segment being closed at rotation is already
 * durable; the new segment's name is made durable by syncing the directory before any batch
 * goes into it. Each segment file lives in a scope of its own and is closed when it is left.
 */
import { Effect, Exit, type FileSystem, type Path, Scope } from "effect"
import type { IoError } from "../../WalError.ts"
import { segmentName } from "../format/segmentName.ts"
import { io, openOwned, syncDirectory } from "../fs/durable.ts"
import type { SegmentInfo } from "../recovery/recover.ts"

export interface SegmentAppender {
  /** Writes one encoded batch holding sequence numbers `firstSeq..lastSeq`, then syncs it. */
  readonly appendBatch: (batch: Uint8Array, firstSeq: bigint, lastSeq: bigint) => Effect.Effect<void, IoError>
  /** The segments, oldest first; the last one is being written. */
  readonly segments: () => ReadonlyArray<SegmentInfo>
  /** Forgets segments that were deleted (truncation). */
  readonly dropSegments: (names: ReadonlySet<string>) => void
  readonly close: Effect.Effect<void>
}

interface OpenSegment {
  readonly file: FileSystem.File
  readonly scope: Scope.Closeable
  readonly path: string
  info: SegmentInfo
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

  const closeCurrent = Effect.suspend(() => {
    const closing = current
    current = undefined
    return closing === undefined ? Effect.void : Scope.close(closing.scope, Exit.void)
  })

  const openSegment = (info: SegmentInfo, isNew: boolean) =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const file = yield* openOwned(fs, info.path, "a", scope).pipe(
        Effect.onError(() => Scope.close(scope, Exit.void))
      )
      if (isNew) yield* syncDirectory(fs, dir)
      current = { file, scope, path: info.path, info }
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
    appendBatch: (batch, firstSeq, lastSeq) =>
      Effect.gen(function* () {
        const segment = yield* segmentFor(firstSeq, batch.byteLength)
        yield* io("write", segment.path)(segment.file.writeAll(batch))
        yield* io("sync", segment.path)(segment.file.sync)
        const info: SegmentInfo = {
          ...segment.info,
          sizeBytes: segment.info.sizeBytes + batch.byteLength,
          batchCount: segment.info.batchCount + 1,
          lastSeq
        }
        segment.info = info
        known[known.length - 1] = info
      }),
    segments: () => known.slice(),
    dropSegments: (names) => {
      for (let i = known.length - 1; i >= 0; i--) {
        const info = known[i]
        if (info !== undefined && names.has(info.name)) known.splice(i, 1)
      }
    },
    close: closeCurrent
  }
}
