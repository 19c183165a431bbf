/**
 * The options of `JetStreamShipper.layer` and `JetStreamSource.read`, their defaults, and their
 * checks: a bad option is an `InvalidConfigError` naming it, before any connection is made.
 */
import type { NodeConnectionOptions } from "@nats-io/transport-node"
import { Duration, Effect, Option } from "effect"
import { EVENT_RECORD_BYTES } from "../internal/format/layout.ts"
import { InvalidConfigError } from "../WalError.ts"
import { MESSAGE_OVERHEAD_BYTES } from "./messageFormat.ts"
import { literalSubjectProblem } from "./streamChecks.ts"

/** Where to connect, shared by the shipper and the source. */
export interface ConnectionOptions {
  /** One server (`"127.0.0.1:4222"`, `"nats://host:4222"`) or several of one cluster. */
  readonly servers: string | ReadonlyArray<string>
  /** How long the first connection may take before failing with `Unreachable`. Default 5 s. */
  readonly connectTimeout?: Duration.Input | undefined
  /** The connection's name as the servers show it. */
  readonly connectionName?: string | undefined
  /**
   * Further client options (credentials, TLS, `maxReconnectAttempts`, …). The client reconnects
   * forever by default; with a bound, giving up is `ConnectionLost`.
   */
  readonly connectionOptions?: Partial<NodeConnectionOptions> | undefined
}

export interface ShipperOptions extends ConnectionOptions {
  /** The stream to ship into. It must exist (see `ensureStream`) and pass `shippingProblems`. */
  readonly stream: string
  /** The subject to publish to, or a function of the WAL's id: `(walId) => \`signals.${walId}\``. */
  readonly subject: string | ((walId: string) => string)
  /** Largest message body, a batch header and the records. Default 256 KiB (12,480 events). */
  readonly maxMessageBytes?: number | undefined
  /** How long a publish waits for its acknowledgement before it is retried. Default 5 s. */
  readonly publishTimeout?: Duration.Input | undefined
  /** First and longest pause between retries; the pause doubles from the first to the longest. */
  readonly retryMinDelay?: Duration.Input | undefined
  readonly retryMaxDelay?: Duration.Input | undefined
  /** Shortest `duplicate_window` the stream may have. Default 30 s. */
  readonly minDuplicateWindow?: Duration.Input | undefined
  /** How often the lag metrics are sampled besides each acknowledgement. Default 1 s. */
  readonly lagSampleInterval?: Duration.Input | undefined
  /** On close, how long to wait for what is durable to be shipped. Default 5 s; 0 skips. */
  readonly drainTimeout?: Duration.Input | undefined
}

export interface ResolvedConnection {
  readonly servers: string | ReadonlyArray<string>
  readonly connectTimeoutMillis: number
  readonly connectionName: string
  readonly connectionOptions: Partial<NodeConnectionOptions> | undefined
}

export interface ResolvedShipperOptions extends ResolvedConnection {
  readonly stream: string
  readonly subject: string
  readonly maxMessageBytes: number
  readonly publishTimeoutMillis: number
  readonly retryMinDelayMillis: number
  readonly retryMaxDelayMillis: number
  readonly minDuplicateWindowMillis: number
  readonly lagSampleIntervalMillis: number
  readonly drainTimeoutMillis: number
}

/** The smallest message: one event. The largest: NATS servers accept at most 64 MiB. */
const MIN_MESSAGE_BYTES = MESSAGE_OVERHEAD_BYTES + EVENT_RECORD_BYTES
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024

export const resolveShipperOptions = (
  options: ShipperOptions,
  walId: string
): Effect.Effect<ResolvedShipperOptions, InvalidConfigError> =>
  Effect.gen(function* () {
    const connection = yield* resolveConnection(options, `tidal-wal shipper ${walId}`)
    const stream = yield* checkStreamName(options.stream)
    const subject = yield* checkSubject(yield* subjectFor(options.subject, walId))
    const maxMessageBytes = options.maxMessageBytes ?? 256 * 1024
    if (
      !Number.isInteger(maxMessageBytes) ||
      maxMessageBytes < MIN_MESSAGE_BYTES ||
      maxMessageBytes > MAX_MESSAGE_BYTES
    ) {
      return yield* invalid(
        "maxMessageBytes",
        maxMessageBytes,
        `an integer from ${MIN_MESSAGE_BYTES} (one event) to ${MAX_MESSAGE_BYTES}`
      )
    }
    return {
      ...connection,
      stream,
      subject,
      maxMessageBytes,
      publishTimeoutMillis: yield* millisOf("publishTimeout", options.publishTimeout, "5 seconds", 1),
      retryMinDelayMillis: yield* millisOf("retryMinDelay", options.retryMinDelay, "100 millis", 1),
      retryMaxDelayMillis: yield* millisOf("retryMaxDelay", options.retryMaxDelay, "5 seconds", 1),
      minDuplicateWindowMillis: yield* millisOf(
        "minDuplicateWindow",
        options.minDuplicateWindow,
        "30 seconds",
        0
      ),
      lagSampleIntervalMillis: yield* millisOf("lagSampleInterval", options.lagSampleInterval, "1 second", 1),
      drainTimeoutMillis: yield* millisOf("drainTimeout", options.drainTimeout, "5 seconds", 0)
    }
  })

export const resolveConnection = (
  options: ConnectionOptions,
  defaultName: string
): Effect.Effect<ResolvedConnection, InvalidConfigError> =>
  Effect.gen(function* () {
    const servers = options.servers
    const list = typeof servers === "string" ? [servers] : servers
    if (
      !Array.isArray(list) ||
      list.length === 0 ||
      list.some((s) => typeof s !== "string" || s.length === 0)
    ) {
      return yield* invalid("servers", servers, "a server address or a non-empty list of them")
    }
    return {
      servers,
      connectTimeoutMillis: yield* millisOf("connectTimeout", options.connectTimeout, "5 seconds", 1),
      connectionName: options.connectionName ?? defaultName,
      connectionOptions: options.connectionOptions
    }
  })

/** A stream name as JetStream accepts it: no dot, wildcard, path separator or whitespace. */
export const checkStreamName = (stream: string): Effect.Effect<string, InvalidConfigError> =>
  typeof stream === "string" && /^[^.*>/\\\s]+$/.test(stream)
    ? Effect.succeed(stream)
    : invalid("stream", stream, "a stream name: no '.', '*', '>', '/', '\\' or whitespace")

export const checkSubject = (subject: string): Effect.Effect<string, InvalidConfigError> => {
  const problem = typeof subject === "string" ? literalSubjectProblem(subject) : "not a string"
  return problem === undefined ? Effect.succeed(subject) : invalid("subject", subject, problem)
}

// internals

const subjectFor = (
  subject: ShipperOptions["subject"],
  walId: string
): Effect.Effect<string, InvalidConfigError> =>
  typeof subject === "function"
    ? Effect.try({
        try: () => subject(walId),
        catch: (cause) =>
          new InvalidConfigError({
            field: "subject",
            value: "(a function)",
            detail: `it threw: ${String(cause)}`
          })
      })
    : Effect.succeed(subject)

const millisOf = (
  field: string,
  input: Duration.Input | undefined,
  fallback: Duration.Input,
  minimumMillis: number
): Effect.Effect<number, InvalidConfigError> => {
  const duration = Duration.fromInput(input ?? fallback)
  const millis = Option.isSome(duration) ? Duration.toMillis(duration.value) : Number.NaN
  return Number.isFinite(millis) && millis >= minimumMillis
    ? Effect.succeed(millis)
    : invalid(field, input, `a finite duration of at least ${minimumMillis} ms, such as "5 seconds"`)
}

const invalid = (field: string, value: unknown, detail: string) =>
  Effect.fail(new InvalidConfigError({ field, value: showValue(value), detail }))

const showValue = (value: unknown): string => {
  if (typeof value === "string") return JSON.stringify(value)
  if (typeof value === "function") return "(a function)"
  try {
    return typeof value === "bigint" ? `${value}n` : String(value)
  } catch {
    return "(unprintable)"
  }
}
