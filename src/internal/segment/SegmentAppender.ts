/**
 * The segment being written: appends whole batches and rotates before a batch that would make
 * the segment exceed `segmentMaxBytes` (docs/FORMAT.md §3 "Segment files").
 *
 * Writing and syncing are separate steps so the writer can have several syncs in flight while
 * writes stay in order: `writeBatch` writes and returns the one sync that makes that batch
 * durable, bound to the file it went to.
 *
 * Rotation keeps the durability order a power cut relies on (docs/FORMAT.md §5 "Durability order"): the
 * next segment is created only once every sync of the current one has succeeded, and its name is
 * made durable by a directory sync before any batch goes into it. So after any power cut only
 * the last segment can end torn — a torn segment followed by another would be read as mid-log
 * corruption. The pipeline's overlap is kept within a segment; at rotation it drains once.
 */
import { Deferred, Effect, Exit, type FileSystem, type Path, Scope } from "effect"
import type { IoError } from "../../WalError.ts"
import { segmentName } from "../format/segmentName.ts"
import { io, openOwned, syncDirectory } from "../fs/durable.ts"
import type { SegmentInfo } from "./SegmentInfo.ts"

export interface SegmentAppender {
  /**
   * Writes encoded batches holding sequence numbers `firstSeq..lastSeq` — one, or `batchCount`
   * consecutive ones in a single buffer; succeeds with the sync that makes them durable. Calls
   * must not overlap; the syncs may.
   */
  readonly writeBatch: (
    batch: Uint8Array,
    firstSeq: bigint,
    lastSeq: bigint,
    batchCount?: number
  ) => Effect.Effect<Effect.Effect<void, IoError>, IoError>
  /**
   * The bytes a write of several batches may hold and still fit the segment being written within
   * `segmentMaxBytes`; 0 before the first write (open may yet resume a segment).
   */
  readonly coalesceRoomBytes: () => number
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
  /** The first failed sync of this segment: nothing may follow it, in this segment or the next. */
  syncFailure: IoError | undefined
  /** Completed when `pendingSyncs` drops to 0, for a rotation waiting on it. */
  idle: Deferred.Deferred<void> | undefined
  leaving: boolean
}

/** Waits until every sync of `segment` has finished; fails with the first that failed. */
const awaitSynced = (segment: OpenSegment): Effect.Effect<void, IoError> =>
  Effect.suspend(() => {
    if (segment.pendingSyncs > 0) {
      const idle = segment.idle ?? Deferred.makeUnsafe<void>()
      segment.idle = idle
      return Effect.andThen(Deferred.await(idle), awaitSynced(segment))
    }
    return segment.syncFailure === undefined ? Effect.void : Effect.fail(segment.syncFailure)
  })

const syncSettled = (segment: OpenSegment): Effect.Effect<void> => {
  segment.pendingSyncs--
  if (segment.pendingSyncs > 0) return Effect.void
  const idle = segment.idle
  segment.idle = undefined
  if (idle !== undefined) Deferred.doneUnsafe(idle, Exit.void)
  return segment.leaving ? Scope.close(segment.scope, Exit.void) : Effect.void
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
    Effect.map(openSegmentFile(fs, dir, info, isNew), (opened) => {
      current = opened
      return opened
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
      if (current !== undefined) yield* awaitSynced(current)
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
    writeBatch: (batch, firstSeq, lastSeq, batchCount = 1) =>
      Effect.gen(function* () {
        const segment = yield* segmentFor(firstSeq, batch.byteLength)
        yield* io("write", segment.path)(segment.file.writeAll(batch))
        const info: SegmentInfo = {
          ...segment.info,
          sizeBytes: segment.info.sizeBytes + batch.byteLength,
          batchCount: segment.info.batchCount + batchCount,
          lastSeq
        }
        segment.info = info
        known[known.length - 1] = info
        return syncOf(segment)
      }),
    coalesceRoomBytes: () => (current === undefined ? 0 : segmentMaxBytes - current.info.sizeBytes),
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

// internals

/** Opens a segment file in a scope of its own; a new one's name is made durable before any batch. */
const openSegmentFile = (fs: FileSystem.FileSystem, dir: string, info: SegmentInfo, isNew: boolean) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    // A new segment must not exist yet: "wx" fails on anything already there — a FIFO opened
    // for writing would wait forever for a reader, a directory would take the name.
    const file = yield* openOwned(fs, info.path, isNew ? "wx" : "a", scope).pipe(
      Effect.onError(() => Scope.close(scope, Exit.void))
    )
    if (isNew) yield* syncDirectory(fs, dir)
    const opened: OpenSegment = {
      file,
      scope,
      path: info.path,
      info,
      pendingSyncs: 0,
      syncFailure: undefined,
      idle: undefined,
      leaving: false
    }
    return opened
  })

/** The sync that makes the batch just written to `segment` durable, counted until it settles. */
const syncOf = (segment: OpenSegment): Effect.Effect<void, IoError> => {
  segment.pendingSyncs++
  return io(
    "sync",
    segment.path
  )(segment.file.sync).pipe(
    Effect.tapError((error) =>
      Effect.sync(() => {
        segment.syncFailure ??= error
      })
    ),
    Effect.ensuring(Effect.suspend(() => syncSettled(segment)))
  )
}
