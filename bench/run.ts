/**
 * `npm run bench`: every benchmark in one run, printed as one report of ratios.
 *
 * Each WAL figure is set beside a baseline measured on the same disk in the same run — node:sqlite
 * and the raw write+fsync loops alternated with the WAL over rounds, a raw read+hash — since the
 * machine is shared and absolute figures drift. Settings (environment):
 * - BENCH_QUICK=1: a short pass to check the bench runs (its figures are not results);
 * - BENCH_ROUNDS (default 5; quick 2), BENCH_ROUND_SECONDS (default 2; quick 0.5),
 *   BENCH_ROUND_WARMUP (default 1; quick 0.3): the side-by-side rounds of (a);
 * - BENCH_SECONDS (default 3; quick 1): seconds per case of the appender sweep (b).
 * About 4 minutes at the defaults on the project's 2-core VM; about 1 minute quick.
 */
import { NodeServices } from "@effect/platform-node"
import { Effect, FileSystem } from "effect"
import { type CodecResult, runCodec } from "./codec.bench.ts"
import { startGcMeter } from "./gc.ts"
import { type RecoveryRow, runRecovery } from "./recovery.bench.ts"
import { fmt } from "./rounds.ts"
import { runSideBySide, type SideBySide, sideBySideReport } from "./sideBySide.bench.ts"
import { runThroughput, type ThroughputRow, throughputCases } from "./throughput.bench.ts"

const quick = process.env.BENCH_QUICK === "1"
const setting = (name: string, normal: number, short: number): number => {
  const value = Number(process.env[name] ?? (quick ? short : normal))
  if (!(value > 0)) throw new Error(`${name} must be a positive number of seconds or rounds`)
  return value
}
const seconds = setting("BENCH_SECONDS", 3, 1)
const rounds = Math.round(setting("BENCH_ROUNDS", 5, 2))
const roundTiming = {
  warmupSeconds: setting("BENCH_ROUND_WARMUP", 1, 0.3),
  seconds: setting("BENCH_ROUND_SECONDS", 2, 0.5)
}

/** Today's figures (README, 2026-11-24) that issue #16 says must not get worse. */
const RETAINED_BYTES_PER_EVENT_BEFORE = 21.8
const DEDUP_BYTES_PER_KEY_BEFORE = 26.3
const RECOVERY_TARGET = 0.8
const P99_TARGET_MILLIS = 20

interface Measured {
  readonly sideBySide: SideBySide
  readonly throughput: ReadonlyArray<ThroughputRow>
  readonly recovery: RecoveryRow
  readonly codec: CodecResult
  readonly wholeRunGcShare: number
}

const measureAll = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const base = yield* fs.makeTempDirectoryScoped({ prefix: "tidal-wal-bench-", directory: process.cwd() })
  const wholeRunGc = startGcMeter()
  process.stderr.write(`side by side, ${rounds} rounds…\n`)
  const sideBySide = yield* Effect.promise(() => runSideBySide(base, rounds, roundTiming))
  process.stderr.write("throughput…\n")
  const throughput = yield* runThroughput(base, throughputCases, seconds)
  process.stderr.write("recovery…\n")
  const recovery = yield* runRecovery(base, quick ? 16 * 1024 * 1024 : 64 * 1024 * 1024)
  process.stderr.write("codec and dedup…\n")
  const codec = runCodec()
  return { sideBySide, throughput, recovery, codec, wholeRunGcShare: wholeRunGc.stop() } satisfies Measured
})

const sweepReport = (throughput: ReadonlyArray<ThroughputRow>): Array<string> => [
  `(b) throughput sweep, closed-loop appenders, default config unless noted, ${seconds} s a case; ` +
    "raw = write+fsync loop at the same batch size; CPU µs per acked event (process / JS thread)",
  "",
  "| case | acked ev/s | batches/s | mean batch | p50 ms | p99 ms | raw ev/s | WAL ÷ raw | CPU µs/ev | GC share |",
  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ...throughput.map((row) => {
    const w = row.wal
    return `| ${row.label} | ${fmt(w.ackedPerSecond)} | ${fmt(w.batchesPerSecond)} | ${fmt(w.meanBatchEvents, 1)} | ${fmt(w.latencyP50Millis, 2)} | ${fmt(w.latencyP99Millis, 2)} | ${fmt(row.rawEventsPerSecond)} | **${fmt(row.ratio, 2)}** | ${fmt(row.cpuMicrosPerEvent, 2)} / ${fmt(row.threadCpuMicrosPerEvent, 2)} | ${fmt(row.gcShare * 100, 1)} % |`
  })
]

const recoveryAndCodecReport = (recovery: RecoveryRow, codec: CodecResult): Array<string> => [
  "(c) recovery: open + replay vs raw read + BLAKE3 of the same segment files (page cache warm)",
  "",
  "| log bytes | events | open ms | raw read+hash ms | raw ÷ open | raw read+hash per batch ms | its ÷ open | retained B/event |",
  "|---:|---:|---:|---:|---:|---:|---:|---:|",
  `| ${fmt(recovery.logBytes)} | ${fmt(recovery.events)} | ${fmt(recovery.openMillis, 1)} | ${fmt(recovery.rawMillis, 1)} | **${fmt(recovery.ratio, 2)}** | ${fmt(recovery.rawPerBatchMillis, 1)} | ${fmt(recovery.rawPerBatchMillis / recovery.openMillis, 2)} | ${fmt(recovery.retainedBytesPerEvent, 1)} |`,
  "",
  "(d) per-event costs",
  "",
  "| work | ns per event |",
  "|---|---:|",
  ...codec.rows.map((row) => `| ${row.label} | ${fmt(row.nanosPerEvent, 1)} |`),
  "",
  `(e) dedup window: ${fmt(codec.dedupKeys)} keys at ${fmt(codec.dedupBytesPerKey, 1)} bytes a key`
]

/** Compares as printed (one decimal), so that an unchanged 21.8 is not a regression by float noise. */
const atMostAsPrinted = (value: number, limit: number): boolean => Math.round(value * 10) / 10 <= limit

/** The issue's targets in one table, so that three consecutive runs can be checked at a glance. */
const targetsReport = ({ sideBySide, recovery, codec }: Measured): Array<string> => {
  const row = (target: string, measured: string, ok: boolean) =>
    `| ${target} | ${measured} | ${ok ? "met" : "**missed**"} |`
  const p99 = sideBySide.append1000P99Millis
  return [
    "issue #16 targets, this run",
    "",
    "| target | measured | |",
    "|---|---:|---|",
    ...sideBySide.ratios.flatMap((ratio) =>
      ratio.atLeast === undefined
        ? []
        : [
            row(
              `${ratio.label} ≥ ${ratio.atLeast}`,
              fmt(ratio.ratio.median, 2),
              ratio.ratio.median >= ratio.atLeast
            )
          ]
    ),
    row(
      `append, 1000 fibers: p99 ack ≤ ${P99_TARGET_MILLIS} ms`,
      `${fmt(p99, 2)} ms`,
      p99 !== undefined && p99 <= P99_TARGET_MILLIS
    ),
    row(
      `recovery: replay ÷ raw read + BLAKE3 ≥ ${RECOVERY_TARGET}`,
      fmt(recovery.ratio, 2),
      recovery.ratio >= RECOVERY_TARGET
    ),
    row(
      `bytes per replayed event ≤ ${RETAINED_BYTES_PER_EVENT_BEFORE}`,
      fmt(recovery.retainedBytesPerEvent, 1),
      atMostAsPrinted(recovery.retainedBytesPerEvent, RETAINED_BYTES_PER_EVENT_BEFORE)
    ),
    row(
      `bytes per dedup key ≤ ${DEDUP_BYTES_PER_KEY_BEFORE}`,
      fmt(codec.dedupBytesPerKey, 1),
      atMostAsPrinted(codec.dedupBytesPerKey, DEDUP_BYTES_PER_KEY_BEFORE)
    ),
    "",
    "CPU per event halved: compare before and after in one run with `node bench/ab.ts <before-ref>` (bench/README.md)."
  ]
}

const program = Effect.gen(function* () {
  const measured = yield* measureAll
  const settings = Object.keys(process.env)
    .filter((name) => name.startsWith("BENCH_"))
    .map((name) => `${name}=${process.env[name]}`)
  const lines = [
    `tidal-wal bench — Node ${process.version}, ${process.platform}/${process.arch}`,
    `command: ${settings.length > 0 ? `${settings.join(" ")} ` : ""}npm run bench`,
    ...(quick ? ["QUICK MODE: a smoke check that the bench runs; its figures are not results"] : []),
    "",
    ...sideBySideReport(measured.sideBySide, roundTiming),
    "",
    ...sweepReport(measured.throughput),
    "",
    ...recoveryAndCodecReport(measured.recovery, measured.codec),
    "",
    `GC: ${fmt(measured.wholeRunGcShare * 100, 1)} % of the whole run's wall time (per case in the GC share column)`,
    "",
    ...targetsReport(measured)
  ]
  for (const line of lines) console.log(line)
}).pipe(Effect.scoped, Effect.provide(NodeServices.layer))

await Effect.runPromise(program)
