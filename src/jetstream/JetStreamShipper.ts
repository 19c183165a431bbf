/**
 * Ships a WAL's durable events to a NATS JetStream stream, exactly once and in order
 * (docs/JETSTREAM.md).
 *
 * `JetStreamShipper.layer(options)` needs a `WalHandle`. Building it connects, checks the stream,
 * reads where the copy on the subject ends and takes a retention hold on the WAL from there; any
 * of these failing fails the layer, typed. Then a fiber follows the WAL's tail and publishes,
 * retrying transient failures (lost connection, timeouts, leader elections) for as long as the
 * layer lives, and stopping only on a failure no retry can mend (a misconfigured stream, a foreign
 * or corrupt message on the subject). Releasing the layer waits up to `drainTimeout` for what is
 * durable to be shipped, then closes the connection and releases the hold.
 *
 * @since 0.1.0
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream"
import { Clock, Context, Duration, Effect, Layer, Schedule, type Scope } from "effect"
import type { CheckpointError, ClosedError, InvalidConfigError } from "../WalError.ts"
import { WalHandle, type WalHandle as WalHandleService, type WalHandleShape } from "../WalHandle.ts"
import { openConnection, request } from "./connection.ts"
import type { JetStreamError } from "./JetStreamError.ts"
import { LagTracker } from "./lagTracker.ts"
import { resolveShipperOptions, type ShipperOptions } from "./options.ts"
import { prepare, type ShipContext, shipUntilStopped } from "./shipLoop.ts"
import { recordLag, shipperMetricsFor } from "./shipperMetrics.ts"
import { ShipperState, type ShipperStatus } from "./shipperState.ts"

/** @category models */
export interface JetStreamShipperShape {
  /** The WAL directory's id, which names each message (`Nats-Msg-Id`) and tags it (`Tidal-Wal-Id`). */
  readonly walId: string
  readonly stream: string
  readonly subject: string
  /** The last WAL sequence number JetStream has acknowledged (0n when nothing is shipped). */
  readonly shippedSeq: Effect.Effect<bigint>
  /**
   * Succeeds once every event up to `seq` is acknowledged by JetStream. Fails if the shipper
   * stops first (a failure it cannot retry, or its scope closing). While JetStream is
   * unreachable it waits: bound it with `Effect.timeout` if the caller cannot.
   */
  readonly awaitShipped: (seq: bigint) => Effect.Effect<void, JetStreamError>
  readonly status: Effect.Effect<ShipperStatus>
  /** Succeeds with why the shipper stopped, once it has (reason `Stopped` for a clean stop). */
  readonly stopped: Effect.Effect<JetStreamError>
}

/** Every way building the shipper can fail. @category errors */
export type ShipperStartError = JetStreamError | InvalidConfigError | CheckpointError | ClosedError

/** @category services */
export class JetStreamShipper extends Context.Service<JetStreamShipper, JetStreamShipperShape>()(
  "tidal-wal/JetStreamShipper"
) {
  /** Starts shipping `wal` in the current scope; closing the scope stops it. */
  static readonly make = (
    wal: WalHandleShape,
    options: ShipperOptions
  ): Effect.Effect<JetStreamShipperShape, ShipperStartError, Scope.Scope> => makeShipper(wal, options)

  /** A layer shipping the `WalHandle` it is given; releasing it stops shipping (after a drain). */
  static readonly layer = (
    options: ShipperOptions
  ): Layer.Layer<JetStreamShipper, ShipperStartError, WalHandleService> =>
    Layer.effect(
      JetStreamShipper,
      WalHandle.use((wal) => makeShipper(wal, options))
    )
}

// internals

const makeShipper = (
  wal: WalHandleShape,
  input: ShipperOptions
): Effect.Effect<JetStreamShipperShape, ShipperStartError, Scope.Scope> =>
  Effect.gen(function* () {
    const options = yield* resolveShipperOptions(input, wal.walId)
    const target = { stream: options.stream, subject: options.subject }
    // Held from the start, before the copy's end is known: nothing may be truncated meanwhile.
    const hold = yield* wal.holdRetention(1n)
    const connection = yield* openConnection(
      {
        servers: options.servers,
        name: options.connectionName,
        connectTimeoutMillis: options.connectTimeoutMillis,
        options: options.connectionOptions
      },
      target
    )
    // Every request, not only publishes, waits at most the publish timeout: a request made while
    // the server is away must fail in time for the retry, not after the client's 5 s default.
    // No account-info probe at start (`checkAPI`): it is answered by the cluster's meta leader, a
    // dependency the shipper does not otherwise have; the stream's own requests say enough.
    const apiOptions = { timeout: options.publishTimeoutMillis, checkAPI: false }
    const jsm = yield* request(target, "opening the JetStream API", () =>
      jetstreamManager(connection, apiOptions)
    )
    const metrics = shipperMetricsFor(wal.dir, options.subject)
    const state = new ShipperState(target, 0n)
    const lag = new LagTracker(0n)
    const ctx: ShipContext = {
      wal,
      connection,
      js: jetstream(connection, apiOptions),
      jsm,
      options,
      target,
      state,
      hold,
      lag,
      metrics
    }
    const first = yield* prepare(ctx)
    state.shippedUpTo(first.position.lastSeq)
    lag.acknowledged(first.position.lastSeq)
    // Registered before the fibers, so it runs after they are interrupted: waiters learn why.
    yield* Effect.addFinalizer(() => Effect.sync(() => state.stop(undefined)))
    yield* Effect.forkScoped(sampleLag(ctx))
    yield* Effect.forkScoped(shipUntilStopped(ctx, first))
    yield* Effect.addFinalizer(() => drain(ctx))
    return {
      walId: wal.walId,
      stream: options.stream,
      subject: options.subject,
      shippedSeq: Effect.sync(() => state.shippedSeq),
      awaitShipped: (seq) => state.awaitShipped(seq),
      status: Effect.sync(() => state.status),
      stopped: state.stopped
    }
  })

/** Samples the WAL's end for the lag metrics, so they grow while nothing is acknowledged. */
const sampleLag = (ctx: ShipContext): Effect.Effect<void> =>
  Effect.gen(function* () {
    const durableSeq = (yield* ctx.wal.nextSeq) - 1n
    const now = yield* Clock.currentTimeMillis
    ctx.lag.observeDurable(durableSeq, now)
    yield* recordLag(ctx.metrics, ctx.lag.lagEvents(), ctx.lag.lagMillis(now))
  }).pipe(Effect.repeat(Schedule.spaced(Duration.millis(ctx.options.lagSampleIntervalMillis))), Effect.asVoid)

/** Waits, up to `drainTimeout`, until what is durable now is shipped. */
const drain = (ctx: ShipContext): Effect.Effect<void> =>
  Effect.gen(function* () {
    if (ctx.options.drainTimeoutMillis <= 0) return
    const durableSeq = (yield* ctx.wal.nextSeq) - 1n
    yield* ctx.state
      .awaitShipped(durableSeq)
      .pipe(
        Effect.timeoutOption(Duration.millis(ctx.options.drainTimeoutMillis)),
        Effect.ignore,
        Effect.interruptible
      )
  })
