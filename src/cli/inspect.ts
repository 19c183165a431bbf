/**
 * `tidal-wal inspect DIR`: segments (name, bytes, batches, first/last seq), checkpoint, lock
 * owner and totals. Read-only and lock-free; exits 1 if the scan found a problem, or if DIR is not
 * a WAL directory (see walDirectory.ts).
 */
import { Effect } from "effect"
import * as WalReader from "../WalReader.ts"
import { ProblemFound } from "./errors.ts"
import { formatCount, line, table } from "./output.ts"
import { requireWalDirectory } from "./walDirectory.ts"

export const runInspect = (dir: string) =>
  Effect.gen(function* () {
    yield* requireWalDirectory("inspect", dir)
    const scan = yield* WalReader.scan(dir)
    yield* line(`WAL ${scan.dir}`)
    yield* line()
    yield* line(
      table(
        ["segment", "bytes", "batches", "events", "first seq", "last seq"],
        scan.segments.map((s) => [
          s.name,
          formatCount(s.sizeBytes),
          formatCount(s.batches),
          formatCount(s.events),
          String(s.firstSeq),
          s.batches > 0 ? String(s.lastSeq) : "-"
        ])
      )
    )
    yield* line()
    const checkpoint =
      scan.checkpoint._tag === "Missing"
        ? "none (0)"
        : scan.checkpoint._tag === "Valid"
          ? `${scan.checkpoint.sequence} (written at ${scan.checkpoint.timestampNanos} ns)`
          : `INVALID: ${scan.checkpoint.detail}`
    yield* line(`checkpoint: ${checkpoint}`)
    yield* line(`lock: ${scan.lock.held ? `held by ${scan.lock.owner ?? "an unknown process"}` : "free"}`)
    const bytes = scan.segments.reduce((n, s) => n + s.sizeBytes, 0)
    const batches = scan.segments.reduce((n, s) => n + s.batches, 0)
    const events = scan.segments.reduce((n, s) => n + s.events, 0)
    yield* line(
      `totals: ${scan.segments.length} segments, ${formatCount(bytes)} bytes, ${formatCount(batches)} batches, ${formatCount(events)} events`
    )
    if (scan.problem !== undefined) {
      const p = scan.problem
      return yield* new ProblemFound({
        message: `${p.file} at byte ${p.offsetBytes}: ${p.reason} (${p.detail})`
      })
    }
  })
