/**
 * The document `tidal-wal inspect --format json` prints: one JSON object describing a WAL
 * directory — its segments, totals, checkpoint, lock, the first damage found and what is in
 * `quarantine/`. Scripts depend on its shape, so it is versioned (`schemaVersion`) and a field
 * changes meaning only with a new version; new fields may be added.
 *
 * Sequence numbers and nanosecond timestamps are u64 values and are written as decimal strings
 * ("18446744073709551615"): a JSON number is read as a double by JavaScript's `JSON.parse`, by
 * jq and by most JSON libraries, and a double holds integers exactly only up to 2^53, so a
 * number would silently come back as a different sequence number. `dump` writes them the same
 * way. Byte and event counts (bounded by file sizes, far below 2^53) are JSON numbers. A value
 * that does not exist (the last sequence number of an empty segment, a lock's unknown owner) is
 * `null`, never omitted.
 */
import type { DirectoryProblem, DirectoryScan, ScannedSegment } from "../WalReader.ts"
import type { QuarantineEntry } from "./quarantine.ts"

export const INSPECT_SCHEMA_VERSION = 1

export interface InspectDocument {
  readonly schemaVersion: typeof INSPECT_SCHEMA_VERSION
  readonly dir: string
  readonly segments: ReadonlyArray<SegmentJson>
  readonly totals: TotalsJson
  readonly checkpoint: CheckpointJson
  readonly lock: { readonly held: boolean; readonly owner: string | null }
  /** The first problem found, in log order; `null` when the directory is clean. */
  readonly damage: DamageJson | null
  readonly quarantine: QuarantineJson
}

export interface SegmentJson {
  readonly name: string
  readonly sizeBytes: number
  /** Bytes up to the end of the last valid batch. */
  readonly validBytes: number
  readonly batches: number
  readonly events: number
  /** The first sequence number the segment's name promises. */
  readonly firstSeq: string
  /** `null` when the segment holds no valid batch. */
  readonly lastSeq: string | null
}

export interface TotalsJson {
  readonly segments: number
  readonly sizeBytes: number
  readonly batches: number
  readonly events: number
  /** First and last sequence numbers held in valid batches; `null` when there are none. */
  readonly firstSeq: string | null
  readonly lastSeq: string | null
}

export type CheckpointJson =
  | { readonly status: "missing" }
  | { readonly status: "valid"; readonly seq: string; readonly writtenAtNanos: string }
  | { readonly status: "invalid"; readonly detail: string }

export interface DamageJson {
  readonly file: string
  readonly offsetBytes: number
  readonly reason: string
  readonly detail: string
  /** Damage that opening the WAL in its default mode would cut as a torn tail. */
  readonly tornTail: boolean
}

export interface QuarantineJson {
  readonly entries: number
  readonly sizeBytes: number
  readonly files: ReadonlyArray<QuarantineFileJson>
}

export interface QuarantineFileJson {
  readonly name: string
  /** "File" for what recovery writes; anything else was put there by hand. */
  readonly type: string
  readonly sizeBytes: number
  /** From the name: a segment's tail, a whole segment, or a name recovery does not give. */
  readonly origin: "tail" | "whole" | "unknown"
  readonly segment: string | null
  /** For a tail: the byte of `segment` the copy starts at. */
  readonly fromOffsetBytes: number | null
  readonly quarantinedAtNanos: string | null
}

export const inspectDocument = (
  scan: DirectoryScan,
  quarantine: ReadonlyArray<QuarantineEntry>
): InspectDocument => ({
  schemaVersion: INSPECT_SCHEMA_VERSION,
  dir: scan.dir,
  segments: scan.segments.map(segmentJson),
  totals: totalsJson(scan.segments),
  checkpoint: checkpointJson(scan.checkpoint),
  lock: { held: scan.lock.held, owner: scan.lock.owner ?? null },
  damage: scan.problem === undefined ? null : damageJson(scan.problem),
  quarantine: {
    entries: quarantine.length,
    sizeBytes: quarantine.reduce((n, e) => n + e.sizeBytes, 0),
    files: quarantine.map(quarantineFileJson)
  }
})

// internals

const segmentJson = (s: ScannedSegment): SegmentJson => ({
  name: s.name,
  sizeBytes: s.sizeBytes,
  validBytes: s.validBytes,
  batches: s.batches,
  events: s.events,
  firstSeq: String(s.firstSeq),
  lastSeq: s.batches > 0 ? String(s.lastSeq) : null
})

const totalsJson = (segments: ReadonlyArray<ScannedSegment>): TotalsJson => {
  const holding = segments.filter((s) => s.batches > 0)
  const first = holding.at(0)
  const last = holding.at(-1)
  return {
    segments: segments.length,
    sizeBytes: segments.reduce((n, s) => n + s.sizeBytes, 0),
    batches: segments.reduce((n, s) => n + s.batches, 0),
    events: segments.reduce((n, s) => n + s.events, 0),
    firstSeq: first === undefined ? null : String(first.firstSeq),
    lastSeq: last === undefined ? null : String(last.lastSeq)
  }
}

const checkpointJson = (checkpoint: DirectoryScan["checkpoint"]): CheckpointJson => {
  switch (checkpoint._tag) {
    case "Missing":
      return { status: "missing" }
    case "Valid":
      return {
        status: "valid",
        seq: String(checkpoint.sequence),
        writtenAtNanos: String(checkpoint.timestampNanos)
      }
    case "Invalid":
      return { status: "invalid", detail: checkpoint.detail }
  }
}

const damageJson = (problem: DirectoryProblem): DamageJson => ({
  file: problem.file,
  offsetBytes: problem.offsetBytes,
  reason: problem.reason,
  detail: problem.detail,
  tornTail: problem.tornTail
})

const quarantineFileJson = (entry: QuarantineEntry): QuarantineFileJson => {
  const origin = entry.origin
  return {
    name: entry.name,
    type: entry.type,
    sizeBytes: entry.sizeBytes,
    origin: origin._tag === "Tail" ? "tail" : origin._tag === "Whole" ? "whole" : "unknown",
    segment: origin._tag === "Unknown" ? null : origin.segment,
    fromOffsetBytes: origin._tag === "Tail" ? origin.fromOffsetBytes : null,
    quarantinedAtNanos: origin._tag === "Unknown" ? null : String(origin.quarantinedAtNanos)
  }
}
