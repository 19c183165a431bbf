/**
 * What `inspect` and `verify` show of `quarantine/`: the bytes recovery removed from the log,
 * copied there before anything was cut (docs/FORMAT.md, "Quarantine before any cut").
 *
 * Recovery names each copy after where it came from, and this module reads those names back:
 * `<segment>.from-<offset>.<nanos>` holds the tail of `<segment>` from byte `offset` on, cut at
 * wall-clock time `nanos`; `<segment>.whole.<nanos>` is a whole segment moved there. A suffix
 * `.<n>` tells apart two copies named for the same moment. Any other entry is listed as it is,
 * with its origin unknown: the directory is the operator's to look at, not ours to judge.
 */
import { Effect, FileSystem, Path } from "effect"
import { parseSegmentName } from "../internal/format/segmentName.ts"
import { QUARANTINE_DIR } from "../internal/recovery/quarantine.ts"
import { ProblemFound } from "./errors.ts"
import { formatCount } from "./output.ts"

/** Where a quarantined file came from, as far as its name tells. */
export type QuarantineOrigin =
  | {
      readonly _tag: "Tail"
      readonly segment: string
      readonly fromOffsetBytes: number
      readonly quarantinedAtNanos: bigint
    }
  | { readonly _tag: "Whole"; readonly segment: string; readonly quarantinedAtNanos: bigint }
  | { readonly _tag: "Unknown" }

export interface QuarantineEntry {
  readonly name: string
  readonly path: string
  /** "File", "Directory", … as the file system reports it. */
  readonly type: FileSystem.File.Type
  readonly sizeBytes: number
  readonly origin: QuarantineOrigin
}

const COPY_NAME = /^(wal-\d{20}\.seg)\.(?:from-(\d{1,15})|whole)\.(\d{1,20})(?:\.\d{1,9})?$/

/** Reads a quarantine file's name back into where it came from. */
export const parseQuarantineName = (name: string): QuarantineOrigin => {
  const match = COPY_NAME.exec(name)
  const segment = match?.[1]
  const nanos = match?.[3]
  if (match === null || segment === undefined || nanos === undefined) return { _tag: "Unknown" }
  if (parseSegmentName(segment) === undefined) return { _tag: "Unknown" }
  const offset = match[2]
  const quarantinedAtNanos = BigInt(nanos)
  return offset === undefined
    ? { _tag: "Whole", segment, quarantinedAtNanos }
    : { _tag: "Tail", segment, fromOffsetBytes: Number(offset), quarantinedAtNanos }
}

/**
 * Every entry of `dir`/quarantine, sorted by name; empty when there is no quarantine directory.
 * Read-only. An entry that vanishes between the listing and its stat is left out.
 */
export const listQuarantine = (
  command: string,
  dir: string
): Effect.Effect<ReadonlyArray<QuarantineEntry>, ProblemFound, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const quarantineDir = path.join(dir, QUARANTINE_DIR)
    const failed = (error: { readonly message: string }) =>
      new ProblemFound({ message: `${command}: ${quarantineDir}: ${error.message}` })
    const names = yield* fs.readDirectory(quarantineDir).pipe(
      Effect.map((found): ReadonlyArray<string> => found),
      Effect.catchReason(
        "PlatformError",
        "NotFound",
        () => Effect.succeed([]),
        (reason) => Effect.fail(failed(reason))
      )
    )
    const entries = yield* Effect.forEach([...names].sort(), (name) =>
      fs.stat(path.join(quarantineDir, name)).pipe(
        Effect.map(
          (info): ReadonlyArray<QuarantineEntry> => [
            {
              name,
              path: path.join(quarantineDir, name),
              type: info.type,
              sizeBytes: Number(info.size),
              origin: parseQuarantineName(name)
            }
          ]
        ),
        Effect.catchReason(
          "PlatformError",
          "NotFound",
          () => Effect.succeed([]),
          (reason) => Effect.fail(failed(reason))
        )
      )
    )
    return entries.flat()
  })

/** The quarantine as text lines: a summary, then one line an entry (name, bytes, origin). */
export const quarantineLines = (entries: ReadonlyArray<QuarantineEntry>): ReadonlyArray<string> => {
  if (entries.length === 0) return ["quarantine: empty"]
  const bytes = entries.reduce((n, e) => n + e.sizeBytes, 0)
  const noun = entries.length === 1 ? "entry" : "entries"
  const nameWidth = Math.max(...entries.map((e) => e.name.length))
  const sizes = entries.map((e) => `${formatCount(e.sizeBytes)} bytes`)
  const sizeWidth = Math.max(...sizes.map((size) => size.length))
  return [
    `quarantine: ${entries.length} ${noun}, ${formatCount(bytes)} bytes (what recovery removed from the log)`,
    ...entries.map(
      (e, i) => `  ${e.name.padEnd(nameWidth)}  ${(sizes[i] ?? "").padStart(sizeWidth)}  ${describeOrigin(e)}`
    )
  ]
}

/** What a quarantined entry is, in words. */
export const describeOrigin = (entry: QuarantineEntry): string => {
  const origin = entry.origin
  if (entry.type !== "File") return `not a file (${entry.type}); recovery makes only files`
  switch (origin._tag) {
    case "Tail":
      return `${origin.segment} from byte ${origin.fromOffsetBytes}, cut ${formatNanos(origin.quarantinedAtNanos)}`
    case "Whole":
      return `${origin.segment} whole, moved ${formatNanos(origin.quarantinedAtNanos)}`
    case "Unknown":
      return "unknown (not a name recovery gives)"
  }
}

/**
 * Wall-clock nanoseconds as an ISO time. Every value a name can hold (at most 20 digits, so under
 * 10^14 ms) is within the range of a `Date`.
 */
export const formatNanos = (nanos: bigint): string => new Date(Number(nanos / 1_000_000n)).toISOString()
