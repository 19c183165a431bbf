/**
 * `tidal-wal bench [--writers N] [--seconds S] [--dir DIR]`: acknowledged appends per second and
 * ack latency from N closed-loop writers, beside the raw write+sync loop of the same disk at the
 * same batch size, measured in the same run. The WAL and the loop use a scratch directory under
 * DIR (default: the system temp directory), removed afterwards.
 */
import { Effect, FileSystem } from "effect"
import { measureThroughput, rawWriteSyncLoop } from "../internal/measure.ts"
import { clearProgress, formatCount, line, progress } from "./output.ts"

export interface BenchOptions {
  readonly writers: number
  readonly seconds: number
  readonly dir: string | undefined
}

export const runBench = (options: BenchOptions) =>
  Effect.scoped(
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const base = yield* fs.makeTempDirectoryScoped({
        prefix: "tidal-wal-bench-",
        ...(options.dir === undefined ? {} : { directory: options.dir })
      })
      const started = performance.now()
      const result = yield* Effect.scoped(
        measureThroughput({
          config: { dir: `${base}/wal` },
          appenders: options.writers,
          eventsPerCall: 1,
          seconds: options.seconds,
          onProgress: (acked) =>
            progress(
              `WAL: ${formatCount(acked)} acknowledged, ${((performance.now() - started) / 1000).toFixed(1)} of ${options.seconds} s`
            )
        })
      )
      yield* progress(`raw write+sync loop for ${options.seconds} s…`)
      const raw = rawWriteSyncLoop(base, Math.max(1, Math.round(result.meanBatchEvents)), options.seconds)
      yield* clearProgress
      yield* line(`writers: ${options.writers}, ${options.seconds} s each, Node ${process.version}`)
      yield* line(
        `WAL: ${formatCount(Math.round(result.ackedPerSecond))} acked events/s, ${formatCount(Math.round(result.batchesPerSecond))} batches/s, mean batch ${result.meanBatchEvents.toFixed(1)}, ack p50 ${result.latencyP50Millis.toFixed(2)} ms, p99 ${result.latencyP99Millis.toFixed(2)} ms`
      )
      yield* line(
        `raw write+sync loop at ${Math.max(1, Math.round(result.meanBatchEvents))} events per sync: ${formatCount(Math.round(raw.eventsPerSecond))} events/s`
      )
      yield* line(`WAL ÷ raw: ${(result.ackedPerSecond / raw.eventsPerSecond).toFixed(2)}`)
    })
  )
