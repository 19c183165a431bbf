/**
 * Creates the stream WALs ship into, or checks the one that exists (docs/JETSTREAM.md "Stream
 * requirements").
 *
 * The shipper never creates a stream itself: replicas, placement and limits are an operator's
 * decision, and a shipper that silently created an R1 stream on a typo'd name would look healthy
 * while the copy sat on one disk. `ensureStream` is the explicit step — for deployment scripts,
 * examples and tests — and it creates only streams fit for shipping: limits retention, file
 * storage, discard new (a full stream refuses publishes, so the WAL keeps the events, rather
 * than dropping shipped ones), no age limit, a two-minute duplicate window.
 */
import { DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream"
import { Duration, Effect, Option } from "effect"
import { InvalidConfigError } from "../WalError.ts"
import { openConnection, request } from "./connection.ts"
import { JetStreamError } from "./JetStreamError.ts"
import { type ConnectionOptions, checkStreamName, resolveConnection } from "./options.ts"
import { retentionProblems } from "./streamChecks.ts"

/** @category models */
export interface EnsureStreamOptions extends ConnectionOptions {
  readonly stream: string
  /** The subjects the stream takes, e.g. `["signals.>"]` for one subject per WAL under `signals.`. */
  readonly subjects: ReadonlyArray<string>
  /** Copies of each message on distinct servers: 1, or 3 (or 5) in a cluster. Default 1. */
  readonly replicas?: number | undefined
  /** How long message ids are remembered for deduplication. Default 2 minutes. */
  readonly duplicateWindow?: Duration.Input | undefined
  /** Largest size of the stream in bytes; past it publishes are refused. Default unlimited. */
  readonly maxBytes?: number | undefined
}

/**
 * Creates the stream if it does not exist (`created: true`); otherwise checks that it takes
 * `subjects` and is fit for shipping, failing with `StreamMisconfigured` naming what is not.
 *
 * @category setup
 */
export const ensureStream = (
  options: EnsureStreamOptions
): Effect.Effect<{ readonly created: boolean }, JetStreamError | InvalidConfigError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const settings = yield* resolveEnsureOptions(options)
      const target = { stream: settings.stream, subject: "" }
      const connection = yield* openConnection(
        {
          servers: settings.connection.servers,
          name: settings.connection.connectionName,
          connectTimeoutMillis: settings.connection.connectTimeoutMillis,
          options: settings.connection.connectionOptions
        },
        target
      )
      const jsm = yield* request(target, "opening the JetStream API", () => jetstreamManager(connection))
      const existing = yield* request(target, "reading the stream", () =>
        jsm.streams.info(settings.stream)
      ).pipe(
        Effect.map(Option.some),
        Effect.catchIf(
          (error) => error.reason === "StreamNotFound",
          () => Effect.succeed(Option.none())
        )
      )
      if (Option.isNone(existing)) {
        yield* request(target, "creating the stream", () =>
          jsm.streams.add({
            name: settings.stream,
            subjects: [...settings.subjects],
            retention: RetentionPolicy.Limits,
            storage: StorageType.File,
            discard: DiscardPolicy.New,
            num_replicas: settings.replicas,
            duplicate_window: settings.duplicateWindowNanos,
            max_bytes: settings.maxBytes,
            max_msgs: -1,
            max_age: 0
          })
        )
        return { created: true }
      }
      const config = existing.value.config
      const missing = settings.subjects.filter((subject) => !(config.subjects ?? []).includes(subject))
      const problems = [
        ...missing.map(
          (subject) => `subjects [${(config.subjects ?? []).join(", ")}] do not include ${subject}`
        ),
        ...retentionProblems(config, 0)
      ]
      if (problems.length > 0) {
        return yield* new JetStreamError({
          ...target,
          reason: "StreamMisconfigured",
          detail: problems.join("; ")
        })
      }
      return { created: false }
    })
  )

// internals

const resolveEnsureOptions = (options: EnsureStreamOptions) =>
  Effect.gen(function* () {
    const connection = yield* resolveConnection(options, "tidal-wal ensureStream")
    const stream = yield* checkStreamName(options.stream)
    const subjects = options.subjects
    if (
      !Array.isArray(subjects) ||
      subjects.length === 0 ||
      subjects.some((s) => typeof s !== "string" || s === "")
    ) {
      return yield* invalid("subjects", String(subjects), 'a non-empty list of subjects, e.g. ["signals.>"]')
    }
    const replicas = options.replicas ?? 1
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
      return yield* invalid("replicas", String(replicas), "an integer from 1 to 5")
    }
    const window = Duration.fromInput(options.duplicateWindow ?? "2 minutes")
    const windowMillis = Option.isSome(window) ? Duration.toMillis(window.value) : Number.NaN
    if (!Number.isFinite(windowMillis) || windowMillis < 1000) {
      return yield* invalid(
        "duplicateWindow",
        String(options.duplicateWindow),
        "a finite duration of at least 1 s"
      )
    }
    const maxBytes = options.maxBytes ?? -1
    if (!Number.isInteger(maxBytes) || (maxBytes !== -1 && maxBytes < 1)) {
      return yield* invalid("maxBytes", String(maxBytes), "a positive integer, or -1 for unlimited")
    }
    return {
      connection,
      stream,
      subjects: subjects as ReadonlyArray<string>,
      replicas,
      duplicateWindowNanos: Math.round(windowMillis * 1e6),
      maxBytes
    }
  })

const invalid = (field: string, value: string, detail: string) =>
  Effect.fail(new InvalidConfigError({ field, value, detail }))
