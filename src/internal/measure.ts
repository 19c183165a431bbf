/**
 * Throughput and latency measurement, shared by `npm run bench` and `tidal-wal bench`.
 *
 * Every WAL figure is taken beside the disk's own limit, measured in the same run on the same
 * directory: a plain loop that writes a prepared batch and syncs it. Results are reported as
 * ratios to that loop, since absolute numbers on a shared machine mean little.
 */
import { closeSync, fsyncSync, openSync, unlinkSync, writeSync } from "node:fs"
import { join } from "node:path"
import { Clock, Duration, Effect, type FileSystem, type Path, type Scope } from "effect"
import type { SignalEvent } from "../SignalEvent.ts"
import type { WalConfigInput } from "../WalConfig.ts"
import type { OpenError } from "../WalHandle.ts"
import { WalHandle } from "../WalHandle.ts"
import { batchSizeBytes } from "./format/batchCodec.ts"

export interface RawLoopResult {
  readonly eventsPerSecond: number
  readonly syncsPerSecond: number
}

/** The physical limit: write a prepared batch of `eventsPerSync` events, fsync, repeat. */
export const rawWriteSyncLoop = (dir: string, eventsPerSync: number, seconds: number): RawLoopResult => {
  const file = join(dir, `raw-loop-${process.pid}.bin`)
  const fd = openSync(file, "w")
  const batch = new Uint8Array(batchSizeBytes(eventsPerSync)).fill(7)
  const deadline = performance.now() + seconds * 1000
  let syncs = 0
  const start = performance.now()
  try {
    while (performance.now() < deadline) {
      writeSync(fd, batch)
      fsyncSync(fd)
      syncs++
    }
  } finally {
    closeSync(fd)
    unlinkSync(file)
  }
  const elapsedSeconds = (performance.now() - start) / 1000
  return { eventsPerSecond: (syncs * eventsPerSync) / elapsedSeconds, syncsPerSecond: syncs / elapsedSeconds }
}

export interface ThroughputResult {
  readonly ackedPerSecond: number
  readonly batchesPerSecond: number
  readonly meanBatchEvents: number
  readonly latencyP50Millis: number
  readonly latencyP99Millis: number
}

export interface ThroughputOptions {
  readonly config: WalConfigInput
  /** Closed-loop appenders: each appends, awaits the acknowledgement, repeats. */
  readonly appenders: number
  /** Events per call: 1 uses `append`, more uses `appendAll`. */
  readonly eventsPerCall: number
  /** Seconds of load before measuring: compiled code, grown heap and dedup tables, full pipeline. */
  readonly warmupSeconds?: number | undefined
  readonly seconds: number
  /** Called as the measured interval starts, after the warm-up. */
  readonly onMeasureStart?: (() => void) | undefined
  readonly onProgress?: ((acked: number) => Effect.Effect<void>) | undefined
}

/**
 * Runs closed-loop appenders against a fresh WAL in `config.dir`: `warmupSeconds` unmeasured, then
 * `seconds` measured.
 */
export const measureThroughput = (
  options: ThroughputOptions
): Effect.Effect<ThroughputResult, OpenError, FileSystem.FileSystem | Path.Path | Scope.Scope> =>
  Effect.gen(function* () {
    const [wal] = yield* WalHandle.open(options.config)
    const latencies = new Float64Array(1 << 22)
    let latencyCount = 0
    let acked = 0
    let counter = 0
    const base = yield* Clock.currentTimeNanos
    const nextEvent = (): SignalEvent => {
      const i = counter++
      return { entityId: BigInt(i), signalType: i & 3, weight: 1, timestamp: base + BigInt(i) }
    }
    let measuring = false
    const record = (startMillis: number, n: number) => {
      if (!measuring) return
      if (latencyCount < latencies.length) latencies[latencyCount++] = performance.now() - startMillis
      acked += n
    }
    const one = Effect.suspend(() => {
      const startMillis = performance.now()
      return Effect.map(wal.append(nextEvent()), () => record(startMillis, 1))
    })
    const many = Effect.suspend(() => {
      const startMillis = performance.now()
      const events = Array.from({ length: options.eventsPerCall }, nextEvent)
      return Effect.map(wal.appendAll(events), () => record(startMillis, options.eventsPerCall))
    })
    const call = options.eventsPerCall === 1 ? one : many
    const progress = options.onProgress

    // The appenders loop on a flag, not on a clock read per call: their loop is part of what is
    // measured, and should cost what a caller's loop costs.
    let running = true
    const interval = { startMillis: 0, endMillis: 0, startSeq: 0n, batchesBefore: 0 }
    const batchCount = Effect.map(wal.listSegments, (segments) =>
      segments.reduce((n, s) => n + s.batchCount, 0)
    )
    const phases = Effect.gen(function* () {
      yield* Effect.sleep(Duration.seconds(options.warmupSeconds ?? 0))
      interval.startSeq = yield* wal.nextSeq
      interval.batchesBefore = yield* batchCount
      options.onMeasureStart?.()
      interval.startMillis = performance.now()
      measuring = true
      yield* Effect.sleep(Duration.seconds(options.seconds))
      running = false
    })
    const appenders = Effect.forEach(
      Array.from({ length: options.appenders }, (_, i) => i),
      (i) =>
        Effect.whileLoop({
          while: () => running,
          body: () =>
            i === 0 && progress !== undefined
              ? Effect.andThen(
                  call,
                  Effect.suspend(() => (acked % 1000 < options.eventsPerCall ? progress(acked) : Effect.void))
                )
              : call,
          step: () => {}
        }),
      { concurrency: "unbounded", discard: true }
    )
    yield* Effect.all([phases, appenders], { concurrency: 2, discard: true }).pipe(Effect.orDie)
    // The measured interval ends when the clock says so; calls still completing after it are
    // counted in it (closed loops finish their last call), as are the batches they were in.
    interval.endMillis = performance.now()
    const elapsedSeconds = (interval.endMillis - interval.startMillis) / 1000
    const written = Number((yield* wal.nextSeq) - interval.startSeq)
    const batches = (yield* batchCount) - interval.batchesBefore
    yield* wal.shutdown
    const sorted = latencies.subarray(0, latencyCount).sort()
    return {
      ackedPerSecond: acked / elapsedSeconds,
      batchesPerSecond: batches / elapsedSeconds,
      meanBatchEvents: batches === 0 ? 0 : written / batches,
      latencyP50Millis: percentile(sorted, 0.5),
      latencyP99Millis: percentile(sorted, 0.99)
    }
  })

const percentile = (sorted: Float64Array, q: number): number =>
  sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0)
