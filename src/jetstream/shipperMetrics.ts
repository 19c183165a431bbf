/**
 * The shipper's metrics (effect `Metric`), one series per WAL directory and subject (attributes
 * `wal.dir` and `nats.subject`), beside the WAL's own (src/internal/metrics.ts).
 *
 * Updated once per published message and once per lag sample, never per event.
 */
import { Effect, Metric } from "effect"

const MILLIS_BOUNDARIES = [0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]
const EVENT_BOUNDARIES = [1, 10, 100, 500, 1000, 2000, 5000, 10000, 20000, 50000]

export const shipperMetricNames = {
  shippedSeq: "tidal_wal_shipped_seq",
  lagEvents: "tidal_wal_ship_lag_events",
  lagMillis: "tidal_wal_ship_lag_millis",
  shippedEvents: "tidal_wal_shipped_events_total",
  messages: "tidal_wal_ship_messages_total",
  messageEvents: "tidal_wal_ship_message_events",
  publishMillis: "tidal_wal_ship_publish_millis",
  retries: "tidal_wal_ship_retries_total"
} as const

/** The metric series of the shipper of the WAL in `dir` to `subject`. */
export const shipperMetricsFor = (dir: string, subject: string) => {
  const attributes = { "wal.dir": dir, "nats.subject": subject }
  const counter = (name: string, description: string) =>
    Metric.counter(name, { description, attributes, incremental: true })
  const gauge = (name: string, description: string) => Metric.gauge(name, { description, attributes })
  const histogram = (name: string, description: string, boundaries: ReadonlyArray<number>) =>
    Metric.histogram(name, { description, attributes, boundaries })
  return {
    shippedSeq: Metric.gauge(shipperMetricNames.shippedSeq, {
      description: "last WAL sequence number acknowledged by JetStream",
      attributes,
      bigint: true
    }),
    lagEvents: gauge(shipperMetricNames.lagEvents, "durable WAL events not yet acknowledged by JetStream"),
    lagMillis: gauge(shipperMetricNames.lagMillis, "age of the oldest durable event not yet acknowledged"),
    shippedEvents: counter(shipperMetricNames.shippedEvents, "events acknowledged by JetStream"),
    messages: counter(shipperMetricNames.messages, "messages acknowledged by JetStream"),
    messageEvents: histogram(shipperMetricNames.messageEvents, "events per message", EVENT_BOUNDARIES),
    publishMillis: histogram(
      shipperMetricNames.publishMillis,
      "publish to acknowledgement",
      MILLIS_BOUNDARIES
    ),
    retries: counter(shipperMetricNames.retries, "failed attempts retried (connection, timeout, rejection)")
  }
}

export type ShipperMetrics = ReturnType<typeof shipperMetricsFor>

/** Records one acknowledged message. */
export const recordMessage = (
  metrics: ShipperMetrics,
  shippedSeq: bigint,
  eventCount: number,
  publishMillis: number
): Effect.Effect<void> =>
  Effect.all(
    [
      Metric.update(metrics.shippedSeq, shippedSeq),
      Metric.update(metrics.shippedEvents, eventCount),
      Metric.update(metrics.messages, 1),
      Metric.update(metrics.messageEvents, eventCount),
      Metric.update(metrics.publishMillis, publishMillis)
    ],
    { discard: true }
  )

/** Records the lag as last computed. */
export const recordLag = (
  metrics: ShipperMetrics,
  lagEvents: bigint,
  lagMillis: number
): Effect.Effect<void> =>
  Effect.all(
    [Metric.update(metrics.lagEvents, Number(lagEvents)), Metric.update(metrics.lagMillis, lagMillis)],
    {
      discard: true
    }
  )
