/**
 * `tidal-wal verify DIR`: a read-only check of every segment and `checkpoint.meta`. Exit 0 when
 * clean; exit 1 naming file, offset and reason of the first problem. Every file is left
 * byte-identical, and no lock is taken, so it is safe beside a live writer. A directory that is
 * not a WAL (see walDirectory.ts) is an error, never "ok: 0 segments".
 *
 * What recovery has moved to `quarantine/` is listed on stdout either way: it is no longer part
 * of the log, so it is no problem of the log's, but an operator checking a WAL should know that
 * bytes were cut from it, from where, and when.
 */
import { Effect } from "effect"
import * as WalReader from "../WalReader.ts"
import { ProblemFound } from "./errors.ts"
import { clearProgress, formatCount, line, progress } from "./output.ts"
import { listQuarantine, quarantineLines } from "./quarantine.ts"
import { requireWalDirectory } from "./walDirectory.ts"

export const runVerify = (dir: string) =>
  Effect.gen(function* () {
    yield* requireWalDirectory("verify", dir)
    const scan = yield* WalReader.scan(dir, (index, total, name) =>
      progress(`verifying segment ${index + 1} of ${total}: ${name}`)
    )
    yield* clearProgress
    const quarantine = yield* listQuarantine("verify", scan.dir)
    if (scan.problem !== undefined) {
      // A failed check prints nothing but this on stdout, and only when there is something to show.
      if (quarantine.length > 0) yield* lines(quarantineLines(quarantine))
      const p = scan.problem
      return yield* new ProblemFound({
        message: `verify: ${p.file} at byte ${p.offsetBytes}: ${p.reason} (${p.detail})`
      })
    }
    const batches = scan.segments.reduce((n, s) => n + s.batches, 0)
    const events = scan.segments.reduce((n, s) => n + s.events, 0)
    const checkpoint = scan.checkpoint._tag === "Valid" ? scan.checkpoint.sequence : 0n
    yield* line(
      `ok: ${scan.segments.length} segments, ${formatCount(batches)} batches, ${formatCount(events)} events, checkpoint ${checkpoint}`
    )
    yield* lines(quarantineLines(quarantine))
  })

const lines = (texts: ReadonlyArray<string>) => Effect.forEach(texts, (text) => line(text), { discard: true })
