/**
 * What the dedup window costs the throughput targets of issue #16, measured:
 *
 *   node bench/bounds.ts [--rounds 5] [--seconds 2] [--warmup 1] [--data-dir DIR]
 *
 * The WAL's `append` ×1000 and `appendAll` ×100 cases run beside the same cases opened with
 * `dedupWindow: 0` (deduplication off) and beside the raw loops, alternated over rounds like
 * `npm run bench` (a): every ratio is taken within a round and reported as its median and range.
 *
 * Deduplication is part of what an append is (every event is hashed, looked up in the window and
 * remembered once durable), so the WAL's cases in `npm run bench` keep it on. A fresh WAL's first
 * window only grows its key table, and these cases never leave that window (30 s by default): the
 * table's growth, and the memory it touches for the first time, fall on every measured second.
 * The "dedup off" rows show how far the targets are from the rest of the WAL.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { type CaseId, cases } from "./cases.ts"
import { type CaseRun, fmt, medianOf, resultsOf, roundRatios, runRounds, spread } from "./rounds.ts"

const SIDE = "working tree"

const caseIds: ReadonlyArray<CaseId> = [
  "append1000",
  "append1000NoDedup",
  "appendAll100",
  "appendAll100NoDedup",
  "rawSerial",
  "rawPipelined"
]

/** Short names for the ratio rows. */
const shortLabel: Partial<Record<CaseId, string>> = {
  append1000: "append ×1000",
  append1000NoDedup: "append ×1000, dedup off",
  appendAll100: "appendAll ×100",
  appendAll100NoDedup: "appendAll ×100, dedup off",
  rawSerial: "raw serial",
  rawPipelined: "raw pipelined"
}

const ratios: ReadonlyArray<readonly [CaseId, CaseId]> = [
  ["append1000NoDedup", "append1000"],
  ["append1000", "rawSerial"],
  ["append1000NoDedup", "rawSerial"],
  ["appendAll100NoDedup", "appendAll100"],
  ["appendAll100", "rawPipelined"],
  ["appendAll100NoDedup", "rawPipelined"]
]

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    seconds: { type: "string", default: "2" },
    warmup: { type: "string", default: "1" },
    "data-dir": { type: "string" }
  }
})
const rounds = Number(values.rounds)
const timing = { warmupSeconds: Number(values.warmup), seconds: Number(values.seconds) }
if (!(Number.isInteger(rounds) && rounds > 0 && timing.warmupSeconds >= 0 && timing.seconds > 0)) {
  throw new Error("--rounds must be a positive integer, --warmup ≥ 0, --seconds > 0")
}
const dataDir = values["data-dir"] ?? mkdtempSync(join(tmpdir(), "tidal-wal-bounds-"))

const caseRows = (runs: ReadonlyArray<CaseRun>): Array<string> =>
  caseIds.map((id) => {
    const results = resultsOf(runs, id, SIDE)
    const cells = [
      fmt(medianOf(results, (r) => r.eventsPerSecond)),
      fmt(
        medianOf(results, (r) => r.threadCpuMicrosPerEvent),
        2
      ),
      fmt(
        medianOf(results, (r) => r.latencyP99Millis),
        1
      )
    ]
    return `| ${cases[id].label} | ${cells.join(" | ")} |`
  })

const ratioRows = (runs: ReadonlyArray<CaseRun>): Array<string> =>
  ratios.map(([numerator, denominator]) => {
    const ratio = spread(
      roundRatios(
        resultsOf(runs, numerator, SIDE),
        resultsOf(runs, denominator, SIDE),
        (r) => r.eventsPerSecond
      )
    )
    const label = (id: CaseId) => shortLabel[id] ?? cases[id].label
    return `| ${label(numerator)} ÷ ${label(denominator)} | **${fmt(ratio.median, 2)}** | ${fmt(ratio.min, 2)}–${fmt(ratio.max, 2)} |`
  })

try {
  const runs = await runRounds({
    caseIds,
    sides: [{ name: SIDE, libPath: undefined }],
    rounds,
    timing,
    dataDir,
    progress: (line) => process.stderr.write(`${line}\n`)
  })
  const report = [
    `tidal-wal bounds — Node ${process.version}, ${rounds} rounds, ${timing.warmupSeconds} s warm-up + ${timing.seconds} s a run`,
    "",
    "| case | ev/s | JS thread µs/ev | p99 ms |",
    "|---|---:|---:|---:|",
    ...caseRows(runs),
    "",
    "| ratio (ev/s, within each round) | median | min–max |",
    "|---|---:|---:|",
    ...ratioRows(runs)
  ]
  process.stdout.write(`${report.join("\n")}\n`)
} finally {
  if (values["data-dir"] === undefined) rmSync(dataDir, { recursive: true, force: true })
}
