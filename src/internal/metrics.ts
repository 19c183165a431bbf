/**
 * The WAL's metrics (effect `Metric`), one series per WAL directory (attribute `wal.dir`).
 *
 * Recorded from the writer's hot path with the metrics' unsafe update against the context
 * captured at open, so a batch costs a handful of map lookups rather than an Effect each. Export
 * them with any effect metrics exporter, e.g. OpenTelemetry (see the README).
 */
import { type Context, Effect, Metric } from "effect"

const MILLIS_BOUNDARIES = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500]
const BATCH_BOUNDARIES = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 10000]

export const metricNames = {
  eventsAppended: "tidal_wal_events_appended_total",
  duplicates: "tidal_wal_duplicates_total",
  batches: "tidal_wal_batches_total",
  batchEvents: "tidal_wal_batch_events",
  syncMillis: "tidal_wal_sync_millis",
  appendLatencyMillis: "tidal_wal_append_latency_millis",
  queueDepth: "tidal_wal_queue_depth",
  segments: "tidal_wal_segments",
  recoveryMillis: "tidal_wal_recovery_millis",
  recoveryBytes: "tidal_wal_recovery_bytes"
} as const

export interface WalMetrics {
  readonly batchDurable: (eventsWritten: number, duplicates: number, syncMillis: number) => void
  readonly appendSettled: (latencyMillis: number) => void
  readonly queueDepth: (depth: number) => void
  readonly segments: (count: number) => void
  readonly recovered: (durationMillis: number, bytesScanned: number) => void
}

export const makeWalMetrics = (dir: string): Effect.Effect<WalMetrics> =>
  Effect.map(Effect.context<never>(), (context) => metricsFor(dir, context))

/** The metric series of the WAL in `dir`: read them with `Metric.value`, export them with any exporter. */
export const walMetricsFor = (dir: string) => {
  const attributes = { "wal.dir": dir }
  const counter = (name: string, description: string) =>
    Metric.counter(name, { description, attributes, incremental: true })
  const histogram = (name: string, description: string, boundaries: ReadonlyArray<number>) =>
    Metric.histogram(name, { description, attributes, boundaries })
  const gauge = (name: string, description: string) => Metric.gauge(name, { description, attributes })
  return {
    eventsAppended: counter(metricNames.eventsAppended, "events written and synced"),
    duplicates: counter(metricNames.duplicates, "appends answered 0n by the dedup window"),
    batches: counter(metricNames.batches, "batches written and synced"),
    batchEvents: histogram(metricNames.batchEvents, "events per batch", BATCH_BOUNDARIES),
    syncMillis: histogram(metricNames.syncMillis, "duration of each batch's sync", MILLIS_BOUNDARIES),
    appendLatencyMillis: histogram(
      metricNames.appendLatencyMillis,
      "append call (one in 16, sampled) or appendAll chunk of at most batchMaxEvents, to acknowledgement",
      MILLIS_BOUNDARIES
    ),
    queueDepth: gauge(metricNames.queueDepth, "requests waiting for the writer"),
    segments: gauge(metricNames.segments, "segment files"),
    recoveryMillis: gauge(metricNames.recoveryMillis, "duration of the last recovery"),
    recoveryBytes: gauge(metricNames.recoveryBytes, "segment bytes scanned by the last recovery")
  }
}

const metricsFor = (dir: string, context: Context.Context<never>): WalMetrics => {
  const m = walMetricsFor(dir)
  return {
    batchDurable: (eventsWritten, duplicateCount, millis) => {
      if (eventsWritten > 0) {
        m.eventsAppended.updateUnsafe(eventsWritten, context)
        m.batches.updateUnsafe(1, context)
        m.batchEvents.updateUnsafe(eventsWritten, context)
        m.syncMillis.updateUnsafe(millis, context)
      }
      if (duplicateCount > 0) m.duplicates.updateUnsafe(duplicateCount, context)
    },
    appendSettled: (latencyMillis) => m.appendLatencyMillis.updateUnsafe(latencyMillis, context),
    queueDepth: (depth) => m.queueDepth.updateUnsafe(depth, context),
    segments: (count) => m.segments.updateUnsafe(count, context),
    recovered: (durationMillis, bytesScanned) => {
      m.recoveryMillis.updateUnsafe(durationMillis, context)
      m.recoveryBytes.updateUnsafe(bytesScanned, context)
    }
  }
}
