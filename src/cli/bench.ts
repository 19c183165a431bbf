/**
 * `tidal-wal bench [--writers N] [--seconds S] [--dir DIR]`: acknowledged appends per second and
 * ack latency from N closed-loop writers, beside the raw write+sync loop of the same disk at the
 * same batch size, measured in the same run. The WAL and the loop use a scratch directory under
 * DIR (default: the system temp directory), removed afterwards.
 *
 * On a terminal, a progress line on stderr counts the acknowledged events during the WAL phase;
 * without one (a pipe, a file, a test) only the result lines are written.
 */
import { Effect, FileSystem } from "effect"
import { measureThroughput, rawWriteSyncLoop, type ThroughputProgress } from "./measure.ts"
import { clearProgress, formatCount, line, Output, progress } from "./output.ts"

export interface BenchOptions {
  readonly writers: number
  readonly seconds: number
  readonly dir: string | undefined
}

/** How often the WAL phase's progress line is redrawn. */
const PROGRESS_INTERVAL_MILLIS = 250

/** The WAL phase's progress line: e.g. "WAL: 12,345 acknowledged (8,230/s), 1.5 of 3 s". */
export const renderWalProgress = (report: ThroughputProgress, seconds: number): string => {
  const elapsedSeconds = report.elapsedMillis / 1000
  const rate = elapsedSeconds > 0 ? Math.round(report.acked / elapsedSeconds) : 0
  const shownSeconds = Math.min(elapsedSeconds, seconds).toFixed(1)
  return `WAL: ${formatCount(report.acked)} acknowledged (${formatCount(rate)}/s), ${shownSeconds} of ${seconds} s`
}

export const runBench = (options: BenchOptions) =>
  Effect.scoped(
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const output = yield* Output
      const base = yield* fs.makeTempDirectoryScoped({
        prefix: "tidal-wal-bench-",
        ...(options.dir === undefined ? {} : { directory: options.dir })
      })
      const result = yield* Effect.scoped(
        measureThroughput({
          config: { dir: `${base}/wal` },
          appenders: options.writers,
          eventsPerCall: 1,
          seconds: options.seconds,
          // Without a terminal to draw on, the measurement runs without the reporting wake-ups.
          onProgress: output.stderrIsTerminal
            ? (report) => progress(renderWalProgress(report, options.seconds))
            : undefined,
          progressIntervalMillis: PROGRESS_INTERVAL_MILLIS
        })
      )
      const eventsPerSync = Math.max(1, Math.round(result.meanBatchEvents))
      yield* progress(`raw write+sync loop at ${eventsPerSync} events per sync for ${options.seconds} s…`)
      const raw = rawWriteSyncLoop(base, eventsPerSync, options.seconds)
      yield* clearProgress
      yield* line(`writers: ${options.writers}, ${options.seconds} s each, Node ${process.version}`)
      yield* line(
        `WAL: ${formatCount(Math.round(result.ackedPerSecond))} acked events/s, ${formatCount(Math.round(result.batchesPerSecond))} batches/s, mean batch ${result.meanBatchEvents.toFixed(1)}, ack p50 ${result.latencyP50Millis.toFixed(2)} ms, p99 ${result.latencyP99Millis.toFixed(2)} ms`
      )
      yield* line(
        `raw write+sync loop at ${eventsPerSync} events per sync: ${formatCount(Math.round(raw.eventsPerSecond))} events/s`
      )
      yield* line(`WAL ÷ raw: ${(result.ackedPerSecond / raw.eventsPerSecond).toFixed(2)}`)
    })
  )
