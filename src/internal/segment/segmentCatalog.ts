/**
 * The segment files of a WAL directory (docs/FORMAT.md §3 "Segment files"), ordered by first sequence number.
 *
 * Names are zero-padded, so the order by name is the order by number; files with other names
 * (LOCK, checkpoint.meta, quarantine/) are not segments and are left alone. Something named like
 * a segment that is not a regular file (a directory, a FIFO — opening one for reading would wait
 * forever) is corruption: no reader or writer opens it.
 */
import { Effect, type FileSystem, type Path } from "effect"
import { CorruptionError, type IoError } from "../../WalError.ts"
import { parseSegmentName } from "../format/segmentName.ts"
import { io } from "../fs/durable.ts"

export interface SegmentFile {
  readonly name: string
  readonly path: string
  /** The first sequence number the file name promises. */
  readonly firstSeq: bigint
  readonly sizeBytes: number
}

export const listSegmentFiles = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  dir: string
): Effect.Effect<ReadonlyArray<SegmentFile>, IoError | CorruptionError> =>
  Effect.gen(function* () {
    const names = yield* io("list", dir)(fs.readDirectory(dir))
    const segments: Array<SegmentFile> = []
    for (const name of names) {
      const firstSeq = parseSegmentName(name)
      if (firstSeq === undefined) continue
      const segmentPath = path.join(dir, name)
      const info = yield* io("stat", segmentPath)(fs.stat(segmentPath))
      if (info.type !== "File") {
        return yield* new CorruptionError({
          file: segmentPath,
          offsetBytes: 0,
          reason: "NotARegularFile",
          detail: `a ${info.type} is named like a segment; move it out of the WAL directory`
        })
      }
      segments.push({ name, path: segmentPath, firstSeq, sizeBytes: Number(info.size) })
    }
    return segments.sort((a, b) => (a.firstSeq < b.firstSeq ? -1 : a.firstSeq > b.firstSeq ? 1 : 0))
  })
