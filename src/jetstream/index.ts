/**
 * tidal-wal/jetstream: ship a WAL to NATS JetStream exactly once, and read it back anywhere
 * (docs/JETSTREAM.md).
 *
 * Needs the optional peer dependencies `@nats-io/transport-node` and `@nats-io/jetstream`, and a
 * nats-server 2.9 or later with JetStream enabled.
 *
 * @since 0.1.0
 */
export { type EnsureStreamOptions, ensureStream } from "./ensureStream.ts"
export { JetStreamError, type JetStreamErrorReason } from "./JetStreamError.ts"
export { JetStreamShipper, type JetStreamShipperShape, type ShipperStartError } from "./JetStreamShipper.ts"
export * as JetStreamSource from "./JetStreamSource.ts"
export {
  EVENT_COUNT_HEADER,
  FIRST_SEQ_HEADER,
  messageIdFor,
  WAL_ID_HEADER
} from "./messageFormat.ts"
export type { ConnectionOptions, ShipperOptions } from "./options.ts"
export { shipperMetricNames } from "./shipperMetrics.ts"
export type { ShipperStatus } from "./shipperState.ts"
