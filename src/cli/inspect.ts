/**
 * `tidal-wal inspect DIR [--format text|json]`: segments (name, bytes, batches, events, first/last
 * seq), checkpoint, lock owner, totals and what is in `quarantine/` — as text for a person, or as
 * one JSON document for a script (its shape is described in inspectReport.ts). Read-only and
 * lock-free. Exits 1 if the scan found damage (after printing the report, which names it too), or
 * if DIR is not a WAL directory (see walDirectory.ts).
 */
import { Effect } from "effect"
import * as WalReader from "../WalReader.ts"
import { ProblemFound } from "./errors.ts"
import { type InspectDocument, inspectDocument } from "./inspectReport.ts"
import { formatCount, line, table } from "./output.ts"
import { listQuarantine, type QuarantineEntry, quarantineLines } from "./quarantine.ts"
import { requireWalDirectory } from "./walDirectory.ts"

export type InspectFormat = "text" | "json"

export const runInspect = (dir: string, format: InspectFormat) =>
  Effect.gen(function* () {
    yield* requireWalDirectory("inspect", dir)
    const scan = yield* WalReader.scan(dir)
    const quarantine = yield* listQuarantine("inspect", scan.dir)
    const document = inspectDocument(scan, quarantine)
    const lines = format === "json" ? [JSON.stringify(document, null, 2)] : textLines(document, quarantine)
    yield* Effect.forEach(lines, (text) => line(text), { discard: true })
    const damage = document.damage
    if (damage !== null) {
      return yield* new ProblemFound({
        message: `${damage.file} at byte ${damage.offsetBytes}: ${damage.reason} (${damage.detail})`
      })
    }
  })

/** The report for a person: a table of segments, then one line each for the rest. */
export const textLines = (
  document: InspectDocument,
  quarantine: ReadonlyArray<QuarantineEntry>
): ReadonlyArray<string> => {
  const totals = document.totals
  return [
    `WAL ${document.dir}`,
    "",
    table(
      ["segment", "bytes", "batches", "events", "first seq", "last seq"],
      document.segments.map((s) => [
        s.name,
        formatCount(s.sizeBytes),
        formatCount(s.batches),
        formatCount(s.events),
        s.firstSeq,
        s.lastSeq ?? "-"
      ])
    ),
    "",
    `checkpoint: ${checkpointText(document.checkpoint)}`,
    `lock: ${document.lock.held ? `held by ${document.lock.owner ?? "an unknown process"}` : "free"}`,
    `totals: ${totals.segments} segments, ${formatCount(totals.sizeBytes)} bytes, ${formatCount(totals.batches)} batches, ${formatCount(totals.events)} events, seq ${totals.firstSeq ?? "-"} to ${totals.lastSeq ?? "-"}`,
    ...quarantineLines(quarantine)
  ]
}

const checkpointText = (checkpoint: InspectDocument["checkpoint"]): string => {
  switch (checkpoint.status) {
    case "missing":
      return "none (0)"
    case "valid":
      return `${checkpoint.seq} (written at ${checkpoint.writtenAtNanos} ns)`
    case "invalid":
      return `INVALID: ${checkpoint.detail}`
  }
}
