/**
 * A child process for test/recovery/hugeSegment.test.ts: runs operations, in order, on the WAL in
 * argv[2] and prints, one JSON line each, what it found and how far the process's peak RSS has
 * risen above the RSS it had once loaded — a process of its own, so nothing else the test runner
 * holds is counted. The peak only grows: each line bounds every operation up to it.
 *
 * Operations (argv[3], comma-separated):
 * - `open`: opens in the default mode; the replay's length and the recovery report.
 * - `read`: streams every event with `WalReader.read`; the count.
 * - `verify`: `WalReader.scan` (what `verify` and `inspect` print); the problem found.
 */
import { writeSync } from "node:fs"
import { NodeServices } from "@effect/platform-node"
import { Effect, Logger, Stream } from "effect"
import { WalHandle, WalReader } from "../../src/index.ts"

const [dir = "", modes = "open"] = process.argv.slice(2)

/** Peak resident set size so far, in bytes (`maxRSS` is in KiB). */
const peakRssBytes = (): number => process.resourceUsage().maxRSS * 1024

const operation = (mode: string): Effect.Effect<unknown, unknown, never> =>
  Effect.gen(function* () {
    if (mode === "open") {
      return yield* Effect.scoped(
        Effect.map(WalHandle.open({ dir }), ([wal, replayed]) => ({
          replayed: replayed.length,
          firstSeq: String(replayed.at(0)?.seq),
          lastSeq: String(replayed.at(-1)?.seq),
          bytesTruncated: wal.recovery.bytesTruncated,
          filesQuarantined: wal.recovery.filesQuarantined
        }))
      )
    }
    if (mode === "read") {
      return { events: yield* Stream.runCount(WalReader.read(dir)) }
    }
    const scan = yield* WalReader.scan(dir)
    return {
      problem: scan.problem,
      segments: scan.segments.map((s) => ({ ...s, firstSeq: String(s.firstSeq), lastSeq: String(s.lastSeq) }))
    }
  }).pipe(Effect.provide(NodeServices.layer), Effect.provide(Logger.layer([])))

const baselineBytes = peakRssBytes()
for (const mode of modes.split(",")) {
  const result = await Effect.runPromise(Effect.result(operation(mode)))
  const report = {
    mode,
    result: result._tag === "Success" ? result.success : String(result.failure),
    failed: result._tag === "Failure",
    rssGrowthBytes: peakRssBytes() - baselineBytes
  }
  writeSync(1, `${JSON.stringify(report)}\n`)
}
