/**
 * Throughput and latency measurement, shared by `npm run bench` and `tidal-wal bench`. It lives
 * beside the command line rather than in the library: it is bench code, which no module of the
 * library imports.
 *
 * Every WAL figure is taken beside the disk's own limit, measured in the same run on the same
 * directory: a plain loop that writes a prepared batch and syncs it. Results are reported as
 * ratios to that loop, since absolute numbers on a shared machine mean little.
 */
import { closeSync, fsyncSync, openSync, unlinkSync, writeSync } from "node:fs"
import { join } from "node:path"
import { Clock, Duration, Effect, type FileSystem, type Path, type Scope } from "effect"
import { batchSizeBytes } from "../internal/format/batchCodec.ts"
import type { SignalEvent } from "../SignalEvent.ts"
import type { WalConfigInput } from "../WalConfig.ts"
import type { OpenError } from "../WalHandle.ts"
import { WalHandle } from "../WalHandle.ts"

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
  /**
   * Called about every `progressIntervalMillis` of the measured interval (not per call: the
   * appenders' loop is what is measured) with what is acknowledged so far.
   */
  readonly onProgress?: ((progress: ThroughputProgress) => Effect.Effect<void>) | undefined
  readonly progressIntervalMillis?: number | undefined
}

export interface ThroughputProgress {
  readonly acked: number
  readonly elapsedMillis: number
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
    const recorder = makeRecorder()
    const call = appendCall(wal, options.eventsPerCall, yield* Clock.currentTimeNanos, recorder)

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
      recorder.start()
      yield* measuredInterval(options, recorder.acked, interval.startMillis)
      running = false
    })
    const appenders = Effect.forEach(
      Array.from({ length: options.appenders }, (_, i) => i),
      () =>
        Effect.whileLoop({
          while: () => running,
          body: () => call,
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
    const sorted = recorder.sortedLatencies()
    return {
      ackedPerSecond: recorder.acked() / elapsedSeconds,
      batchesPerSecond: batches / elapsedSeconds,
      meanBatchEvents: batches === 0 ? 0 : written / batches,
      latencyP50Millis: percentile(sorted, 0.5),
      latencyP99Millis: percentile(sorted, 0.99)
    }
  })

/** Ack latencies and the acknowledged count, recorded only once the measured interval starts. */
const makeRecorder = () => {
  const latencies = new Float64Array(1 << 22)
  let latencyCount = 0
  let acked = 0
  let measuring = false
  return {
    start: () => {
      measuring = true
    },
    record: (startMillis: number, n: number) => {
      if (!measuring) return
      if (latencyCount < latencies.length) latencies[latencyCount++] = performance.now() - startMillis
      acked += n
    },
    acked: () => acked,
    sortedLatencies: () => latencies.subarray(0, latencyCount).sort()
  }
}

/** What an appender calls: the two append methods of an open WAL. */
interface Appender<E> {
  readonly append: (event: SignalEvent) => Effect.Effect<unknown, E>
  readonly appendAll: (events: ReadonlyArray<SignalEvent>) => Effect.Effect<unknown, E>
}

/** One appender's call: `append` of one fresh event, or `appendAll` of `eventsPerCall`. */
const appendCall = <E>(
  wal: Appender<E>,
  eventsPerCall: number,
  baseNanos: bigint,
  recorder: ReturnType<typeof makeRecorder>
): Effect.Effect<void, E> => {
  let counter = 0
  const nextEvent = (): SignalEvent => {
    const i = counter++
    return { entityId: BigInt(i), signalType: i & 3, weight: 1, timestamp: baseNanos + BigInt(i) }
  }
  if (eventsPerCall === 1) {
    return Effect.suspend(() => {
      const startMillis = performance.now()
      return Effect.map(wal.append(nextEvent()), () => recorder.record(startMillis, 1))
    })
  }
  return Effect.suspend(() => {
    const startMillis = performance.now()
    const events = Array.from({ length: eventsPerCall }, nextEvent)
    return Effect.map(wal.appendAll(events), () => recorder.record(startMillis, eventsPerCall))
  })
}

/**
 * Waits out the measured `seconds`. With `onProgress`, it wakes every `progressIntervalMillis` to
 * report, against a deadline, so the reports do not stretch the interval.
 */
const measuredInterval = (
  options: ThroughputOptions,
  acked: () => number,
  startMillis: number
): Effect.Effect<void> => {
  const report = options.onProgress
  if (report === undefined) return Effect.sleep(Duration.seconds(options.seconds))
  const intervalMillis = options.progressIntervalMillis ?? 250
  const deadlineMillis = startMillis + options.seconds * 1000
  const tick: Effect.Effect<void> = Effect.suspend(() => {
    const remainingMillis = deadlineMillis - performance.now()
    if (remainingMillis <= 0) return Effect.void
    return Effect.sleep(Duration.millis(Math.min(intervalMillis, remainingMillis))).pipe(
      Effect.andThen(
        Effect.suspend(() => report({ acked: acked(), elapsedMillis: performance.now() - startMillis }))
      ),
      Effect.andThen(tick)
    )
  })
  return tick
}

const percentile = (sorted: Float64Array, q: number): number =>
  sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0)
