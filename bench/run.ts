/**
 * `npm run bench`: every benchmark in one run, printed as one report of ratios.
 *
 * Each WAL figure is set beside a baseline measured on the same disk in the same run — the raw
 * write+sync loop, a raw read+hash — since the machine is shared and absolute figures drift.
 * BENCH_SECONDS sets the seconds per throughput case (default 3); BENCH_QUICK=1 runs a short pass.
 */
import { NodeServices } from "@effect/platform-node"
import { Effect, FileSystem } from "effect"
import { runCodec } from "./codec.bench.ts"
import { startGcMeter } from "./gc.ts"
import { runRecovery } from "./recovery.bench.ts"
import { runThroughput, throughputCases } from "./throughput.bench.ts"

const quick = process.env.BENCH_QUICK === "1"
const seconds = Number(process.env.BENCH_SECONDS ?? (quick ? 1 : 3))
const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })

const program = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const base = yield* fs.makeTempDirectoryScoped({ prefix: "tidal-wal-bench-", directory: process.cwd() })
  const lines: Array<string> = []
  const out = (line = "") => {
    lines.push(line)
    console.log(line)
  }
  const wholeRunGc = startGcMeter()
  process.stderr.write("throughput…\n")
  const throughput = yield* runThroughput(base, throughputCases, seconds)
  process.stderr.write("recovery…\n")
  const recovery = yield* runRecovery(base, quick ? 16 * 1024 * 1024 : 64 * 1024 * 1024)
  process.stderr.write("codec and dedup…\n")
  const codec = runCodec()
  const wholeRunGcShare = wholeRunGc.stop()

  out(`tidal-wal bench — Node ${process.version}, ${process.platform}/${process.arch}, ${seconds} s per case`)
  out(`command: npm run bench${process.env.BENCH_SECONDS ? ` (BENCH_SECONDS=${seconds})` : ""}`)
  out()
  out(
    "(a) throughput, closed-loop appenders, default config unless noted; raw = write+fsync loop at the same batch size"
  )
  out()
  out("| case | acked ev/s | batches/s | mean batch | p50 ms | p99 ms | raw ev/s | WAL ÷ raw | GC share |")
  out("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
  for (const row of throughput) {
    const w = row.wal
    out(
      `| ${row.label} | ${fmt(w.ackedPerSecond)} | ${fmt(w.batchesPerSecond)} | ${fmt(w.meanBatchEvents, 1)} | ${fmt(w.latencyP50Millis, 2)} | ${fmt(w.latencyP99Millis, 2)} | ${fmt(row.rawEventsPerSecond)} | **${fmt(row.ratio, 2)}** | ${fmt(row.gcShare * 100, 1)} % |`
    )
  }
  out()
  out("(b) recovery: open + replay vs raw read + BLAKE3 of the same segment files (page cache warm)")
  out()
  out("| log bytes | events | open ms | raw read+hash ms | raw ÷ open | retained B/event |")
  out("|---:|---:|---:|---:|---:|---:|")
  out(
    `| ${fmt(recovery.logBytes)} | ${fmt(recovery.events)} | ${fmt(recovery.openMillis, 1)} | ${fmt(recovery.rawMillis, 1)} | **${fmt(recovery.ratio, 2)}** | ${fmt(recovery.retainedBytesPerEvent, 1)} |`
  )
  out()
  out("(c) per-event costs")
  out()
  out("| work | ns per event |")
  out("|---|---:|")
  for (const row of codec.rows) out(`| ${row.label} | ${fmt(row.nanosPerEvent, 1)} |`)
  out()
  out(`(d) dedup window: ${fmt(codec.dedupKeys)} keys at ${fmt(codec.dedupBytesPerKey, 1)} bytes a key`)
  out()
  out(`GC: ${fmt(wholeRunGcShare * 100, 1)} % of the whole run's wall time (per case in the GC share column)`)
}).pipe(Effect.scoped, Effect.provide(NodeServices.layer))

await Effect.runPromise(program)
