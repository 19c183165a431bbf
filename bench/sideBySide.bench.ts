/**
 * (a) The WAL beside its peers and limits, measured in the same minutes: `appendAll` ×100 from 100
 * callers, `append` from 1000 and from 100 fibers, node:sqlite, and the raw write+fsync loop
 * pipelined and serial — alternated over N rounds (bench/rounds.ts), with the ratios issue #16
 * sets targets on taken within each round and reported as their median and range.
 */
import { type CaseId, type CaseTiming, cases, PEER_BATCH_EVENTS, sideBySideCaseIds } from "./cases.ts"
import {
  type CaseRun,
  fmt,
  medianOf,
  resultsOf,
  roundRatios,
  runRounds,
  type Spread,
  spread
} from "./rounds.ts"

const SIDE = "working tree"

export interface RatioRow {
  readonly label: string
  readonly ratio: Spread
  /** The issue's target for this ratio, if it sets one: at least this. */
  readonly atLeast: number | undefined
}

export interface SideBySide {
  readonly runs: ReadonlyArray<CaseRun>
  readonly rounds: number
  readonly ratios: ReadonlyArray<RatioRow>
  readonly append1000P99Millis: number | undefined
}

const ratioDefinitions: ReadonlyArray<{
  readonly label: string
  readonly numerator: CaseId
  readonly denominator: CaseId
  readonly atLeast?: number
}> = [
  {
    label: "appendAll ×100, 100 callers ÷ node:sqlite",
    numerator: "appendAll100",
    denominator: "sqlite",
    atLeast: 1.2
  },
  {
    label: "appendAll ×100, 100 callers ÷ raw pipelined",
    numerator: "appendAll100",
    denominator: "rawPipelined",
    atLeast: 0.9
  },
  {
    label: "append, 1000 fibers ÷ raw serial",
    numerator: "append1000",
    denominator: "rawSerial",
    atLeast: 0.8
  },
  { label: "append, 100 fibers ÷ raw serial", numerator: "append100", denominator: "rawSerial" },
  { label: "node:sqlite ÷ raw serial", numerator: "sqlite", denominator: "rawSerial" },
  { label: "raw pipelined ÷ raw serial", numerator: "rawPipelined", denominator: "rawSerial" }
]

export const runSideBySide = async (
  dataDir: string,
  rounds: number,
  timing: CaseTiming
): Promise<SideBySide> => {
  const runs = await runRounds({
    caseIds: sideBySideCaseIds,
    sides: [{ name: SIDE, libPath: undefined }],
    rounds,
    timing,
    dataDir,
    progress: (line) => process.stderr.write(`${line}\n`)
  })
  const ratios = ratioDefinitions.map((definition) => ({
    label: definition.label,
    ratio: spread(
      roundRatios(
        resultsOf(runs, definition.numerator, SIDE),
        resultsOf(runs, definition.denominator, SIDE),
        (result) => result.eventsPerSecond
      )
    ),
    atLeast: definition.atLeast
  }))
  const append1000P99Millis = medianOf(resultsOf(runs, "append1000", SIDE), (r) => r.latencyP99Millis)
  return { runs, rounds, ratios, append1000P99Millis }
}

const met = (value: number, atLeast: number | undefined): string =>
  atLeast === undefined ? "" : `≥ ${fmt(atLeast, 1)}: ${value >= atLeast ? "met" : "**missed**"}`

/** The section's two tables, as markdown lines. */
export const sideBySideReport = (result: SideBySide, timing: CaseTiming): Array<string> => {
  const lines = [
    `(a) side by side: medians of ${result.rounds} alternating rounds, each case in a fresh process, ` +
      `${timing.warmupSeconds} s warm-up + ${timing.seconds} s measured; events built in the caller from ` +
      `JSON-like values; peers and raw loops at ${PEER_BATCH_EVENTS} events a batch; CPU = µs per acked event`,
    "",
    "| case | ev/s | min–max | CPU µs/ev | JS thread µs/ev | p50 ms | p99 ms | mean batch | GC share |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  ]
  for (const caseId of sideBySideCaseIds) {
    const results = resultsOf(result.runs, caseId, SIDE)
    const rate = spread(results.map((r) => r.eventsPerSecond))
    const gcShare = medianOf(results, (r) => r.gcShare)
    lines.push(
      `| ${cases[caseId].label} | ${fmt(rate.median)} | ${fmt(rate.min)}–${fmt(rate.max)} ` +
        `| ${fmt(
          medianOf(results, (r) => r.cpuMicrosPerEvent),
          2
        )} ` +
        `| ${fmt(
          medianOf(results, (r) => r.threadCpuMicrosPerEvent),
          2
        )} ` +
        `| ${fmt(
          medianOf(results, (r) => r.latencyP50Millis),
          2
        )} ` +
        `| ${fmt(
          medianOf(results, (r) => r.latencyP99Millis),
          2
        )} ` +
        `| ${fmt(
          medianOf(results, (r) => r.meanBatchEvents),
          1
        )} ` +
        `| ${gcShare === undefined ? "—" : `${fmt(gcShare * 100, 1)} %`} |`
    )
  }
  lines.push("", "| ratio (within each round) | median | min–max | issue #16 target |", "|---|---:|---:|---|")
  for (const row of result.ratios) {
    lines.push(
      `| ${row.label} | **${fmt(row.ratio.median, 2)}** | ${fmt(row.ratio.min, 2)}–${fmt(row.ratio.max, 2)} ` +
        `| ${met(row.ratio.median, row.atLeast)} |`
    )
  }
  return lines
}
