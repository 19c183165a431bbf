/**
 * (a) Acknowledged events/s, batches/s, mean batch size and ack latency for 1–5000 concurrent
 * appenders, and for `appendAll` of 100 events a call — each beside the raw write+sync loop at the
 * same batch size on the same disk, measured just after it. Each case runs a second unmeasured
 * first, so that it is measured in its steady state rather than in the previous case's wake.
 */
import { Effect, type FileSystem, type Path } from "effect"
import { measureThroughput, rawWriteSyncLoop, type ThroughputResult } from "../src/cli/measure.ts"
import type { GroupCommit } from "../src/index.ts"
import { startUsageMeter, type Usage, type UsageMeter } from "./usage.ts"

export interface ThroughputRow {
  readonly label: string
  readonly wal: ThroughputResult
  readonly rawEventsPerSecond: number
  readonly ratio: number
  readonly gcShare: number
  /**
   * Whole-process and JS-thread CPU per acknowledged event, in microseconds. Approximate: the
   * interval runs from the measurement's start to the WAL's shutdown (a few ms past its end).
   */
  readonly cpuMicrosPerEvent: number
  readonly threadCpuMicrosPerEvent: number
}

export interface ThroughputCase {
  readonly label: string
  readonly appenders: number
  readonly eventsPerCall: number
  readonly groupCommit: GroupCommit
}

/** Load before each case is measured: compiled code, a grown heap and dedup tables, a full pipeline. */
const WARMUP_SECONDS = 1

export const throughputCases: ReadonlyArray<ThroughputCase> = [
  { label: "append, 1 appender", appenders: 1, eventsPerCall: 1, groupCommit: "window" },
  { label: "append, 10 appenders", appenders: 10, eventsPerCall: 1, groupCommit: "window" },
  { label: "append, 100 appenders", appenders: 100, eventsPerCall: 1, groupCommit: "window" },
  { label: "append, 1000 appenders", appenders: 1000, eventsPerCall: 1, groupCommit: "window" },
  { label: "append, 5000 appenders", appenders: 5000, eventsPerCall: 1, groupCommit: "window" },
  { label: "appendAll ×100, 1 appender", appenders: 1, eventsPerCall: 100, groupCommit: "window" },
  { label: "appendAll ×100, 100 appenders", appenders: 100, eventsPerCall: 100, groupCommit: "window" },
  { label: "append, 1 appender, eager", appenders: 1, eventsPerCall: 1, groupCommit: "eager" },
  { label: "append, 1000 appenders, eager", appenders: 1000, eventsPerCall: 1, groupCommit: "eager" }
]

export const runThroughput = (
  baseDir: string,
  cases: ReadonlyArray<ThroughputCase>,
  seconds: number
): Effect.Effect<Array<ThroughputRow>, unknown, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const rows: Array<ThroughputRow> = []
    let n = 0
    for (const c of cases) {
      const dir = `${baseDir}/wal-${n++}`
      let meter: UsageMeter | undefined
      const wal = yield* Effect.scoped(
        measureThroughput({
          config: { dir, groupCommit: c.groupCommit },
          appenders: c.appenders,
          eventsPerCall: c.eventsPerCall,
          warmupSeconds: WARMUP_SECONDS,
          seconds,
          onMeasureStart: () => {
            meter = startUsageMeter()
          }
        })
      )
      const usage: Usage | undefined = meter?.stop()
      const ackedEvents = (wal.ackedPerSecond * (usage?.wallMillis ?? 0)) / 1000
      const batchEvents = Math.max(1, Math.round(wal.meanBatchEvents))
      const before = rawWriteSyncLoop(baseDir, batchEvents, seconds / 2)
      const after = rawWriteSyncLoop(baseDir, batchEvents, seconds / 2)
      const rawEventsPerSecond = (before.eventsPerSecond + after.eventsPerSecond) / 2
      rows.push({
        label: c.label,
        wal,
        rawEventsPerSecond,
        ratio: wal.ackedPerSecond / rawEventsPerSecond,
        gcShare: usage?.gcShare ?? 0,
        cpuMicrosPerEvent: (usage?.processCpuMicros ?? Number.NaN) / ackedEvents,
        threadCpuMicrosPerEvent: (usage?.threadCpuMicros ?? Number.NaN) / ackedEvents
      })
      process.stderr.write(`  ${c.label}: ${(wal.ackedPerSecond / rawEventsPerSecond).toFixed(2)} of raw\n`)
    }
    return rows
  })
