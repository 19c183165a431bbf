/**
 * One WAL case, driven through the public API only: closed-loop callers that build their events
 * from the event pool (bench/eventPool.ts), call `append` or `appendAll`, await the
 * acknowledgement, repeat. Only the public API, because the A/B harness runs this file against
 * the library of another git ref, whose internals may have moved.
 *
 * The library is a parameter (`WalLibrary`, the few members used), so any checkout's
 * `src/index.ts` can be loaded and driven the same way.
 */
import { Duration, Effect, type FileSystem, type Path, type Scope } from "effect"
import type { SignalEvent } from "../src/SignalEvent.ts"
import type { CaseResult, CaseTiming } from "./cases.ts"
import { makeEventPool, UNIQUE_EVENTS } from "./eventPool.ts"
import { startUsageMeter, type Usage, type UsageMeter } from "./usage.ts"

/** The WAL members the bench uses; `listSegments` is optional so that older refs still run. */
export interface BenchWal {
  readonly append: (event: SignalEvent) => Effect.Effect<unknown, unknown>
  readonly appendAll: (events: ReadonlyArray<SignalEvent>) => Effect.Effect<unknown, unknown>
  readonly nextSeq: Effect.Effect<bigint>
  readonly listSegments?: Effect.Effect<ReadonlyArray<{ readonly batchCount: number }>>
  readonly shutdown: Effect.Effect<void>
}

export interface WalLibrary {
  readonly WalHandle: {
    readonly open: (config: {
      readonly dir: string
      readonly dedupWindow?: string
    }) => Effect.Effect<
      readonly [BenchWal, ...ReadonlyArray<unknown>],
      unknown,
      FileSystem.FileSystem | Path.Path | Scope.Scope
    >
  }
}

/** The working tree's library has the shape the bench drives (checked by the compiler). */
export const workingTreeLibrary = (library: typeof import("../src/index.ts")): WalLibrary => library

/** Room for every latency of a measured interval (4M calls; 32 MB, allocated once). */
const LATENCY_SLOTS = 1 << 22

export interface WalLoad {
  readonly callers: number
  readonly eventsPerCall: number
  /** Open with `dedupWindow: "0 millis"`, deduplication off (bench/bounds.ts). */
  readonly withoutDedup?: boolean
}

interface Snapshot {
  readonly nextSeq: bigint
  readonly batches: number | undefined
}

const snapshot = (wal: BenchWal): Effect.Effect<Snapshot> =>
  Effect.gen(function* () {
    const nextSeq = yield* wal.nextSeq
    const segments = wal.listSegments === undefined ? undefined : yield* wal.listSegments
    return { nextSeq, batches: segments?.reduce((n, s) => n + s.batchCount, 0) }
  })

/** Opens a fresh WAL in `dir`, loads it for `warmupSeconds`, then measures `seconds`. */
export const measureWalCase = (
  library: WalLibrary,
  dir: string,
  load: WalLoad,
  timing: CaseTiming
): Effect.Effect<Omit<CaseResult, "id">, unknown, FileSystem.FileSystem | Path.Path | Scope.Scope> =>
  Effect.gen(function* () {
    const [wal] = yield* library.WalHandle.open(
      load.withoutDedup === true ? { dir, dedupWindow: "0 millis" } : { dir }
    )
    const pool = makeEventPool()
    const latencies = new Float64Array(LATENCY_SLOTS)
    let latencyCount = 0
    let acked = 0
    let nextEvent = 0
    let measuring = false
    // Callers loop on a flag, not a clock read per call: their loop costs what a caller's costs.
    let running = true
    const acknowledged = (startMillis: number, events: number) => {
      if (!measuring) return
      if (latencyCount < latencies.length) latencies[latencyCount++] = performance.now() - startMillis
      acked += events
    }
    const one = Effect.suspend(() => {
      const startMillis = performance.now()
      return Effect.map(wal.append(pool.signalEvent(nextEvent++)), () => acknowledged(startMillis, 1))
    })
    const many = Effect.suspend(() => {
      const startMillis = performance.now()
      const events: Array<SignalEvent> = new Array(load.eventsPerCall)
      for (let i = 0; i < load.eventsPerCall; i++) events[i] = pool.signalEvent(nextEvent++)
      return Effect.map(wal.appendAll(events), () => acknowledged(startMillis, load.eventsPerCall))
    })
    const call = load.eventsPerCall === 1 ? one : many
    const callers = Effect.forEach(
      Array.from({ length: load.callers }, (_, i) => i),
      () => Effect.whileLoop({ while: () => running, body: () => call, step: () => {} }),
      { concurrency: "unbounded", discard: true }
    )
    let meter: UsageMeter | undefined
    let before: Snapshot = { nextSeq: 0n, batches: undefined }
    const phases = Effect.gen(function* () {
      yield* Effect.sleep(Duration.millis(timing.warmupSeconds * 1000))
      before = yield* snapshot(wal)
      meter = startUsageMeter()
      measuring = true
      yield* Effect.sleep(Duration.millis(timing.seconds * 1000))
      running = false
    })
    yield* Effect.all([phases, callers], { concurrency: 2, discard: true }).pipe(Effect.orDie)
    // The interval ends once every caller has finished its last call: those calls count in it,
    // as do the batches they were in.
    const usage = meter?.stop()
    measuring = false
    const after = yield* snapshot(wal)
    yield* wal.shutdown
    if (usage === undefined) throw new Error("the measured interval never started")
    // Past this, events repeat and the dedup window would acknowledge them without writing them.
    if (nextEvent > UNIQUE_EVENTS) throw new Error(`${nextEvent} events: more than the pool's unique ones`)
    return walResult(usage, acked, before, after, latencies.subarray(0, latencyCount).sort())
  })

const walResult = (
  usage: Usage,
  acked: number,
  before: Snapshot,
  after: Snapshot,
  sortedLatencies: Float64Array
): Omit<CaseResult, "id"> => {
  if (acked === 0) throw new Error("no call was acknowledged in the measured interval")
  const written = Number(after.nextSeq - before.nextSeq)
  const batches =
    after.batches === undefined || before.batches === undefined ? undefined : after.batches - before.batches
  return {
    events: acked,
    eventsPerSecond: acked / (usage.wallMillis / 1000),
    cpuMicrosPerEvent: usage.processCpuMicros / acked,
    threadCpuMicrosPerEvent: usage.threadCpuMicros / acked,
    gcShare: usage.gcShare,
    latencyP50Millis: percentile(sortedLatencies, 0.5),
    latencyP99Millis: percentile(sortedLatencies, 0.99),
    meanBatchEvents: batches === undefined || batches === 0 ? undefined : written / batches
  }
}

export const percentile = (sorted: Float64Array, q: number): number =>
  sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0)
