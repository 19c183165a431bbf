/**
 * The configuration of a WAL (SPEC §4 "WalConfig"): a Schema with the SPEC's defaults and bounds.
 *
 * Durations accept any `Duration.Input` ("10 millis", a number of milliseconds, a `Duration`).
 * `decodeWalConfig` fails with `InvalidConfigError` naming the field and value; the relation between
 * fields (a full batch must fit in a segment) is checked after the per-field rules.
 *
 * @since 0.1.0
 */
import { Duration, Effect, Option, Schema } from "effect"
import { batchSizeBytes } from "./internal/format/batchCodec.ts"
import { MAX_EVENTS_PER_BATCH } from "./internal/format/layout.ts"
import { firstIssue, formatValue } from "./internal/schemaIssue.ts"
import { InvalidConfigError } from "./WalError.ts"

/** @category models */
export type RecoveryMode = "tolerate-tail" | "point-in-time" | "strict"

/**
 * How the writer closes a batch. `"window"` (SPEC default): at `batchMaxEvents`, or `batchMaxWait`
 * after the batch's first event. `"eager"`: as soon as the previous sync is done and something is
 * waiting, so a lone appender waits one sync instead of the window.
 *
 * @category models
 */
export type GroupCommit = "window" | "eager"

/** @category models */
export type ReplayMode = "collect" | "none"

const SEGMENT_MAX_BYTES_LIMIT = 0x7fff_ffff

const DurationInput = Schema.declare(
  (u: unknown): u is Duration.Input =>
    (typeof u === "string" || typeof u === "number" || typeof u === "bigint" || Duration.isDuration(u)) &&
    Option.isSome(Duration.fromInput(u as Duration.Input)),
  { expected: 'a Duration input such as "10 millis"' }
)

const FiniteDuration = (minimumMillis: number) =>
  DurationInput.check(
    Schema.makeFilter((input: Duration.Input) => {
      const millis = Duration.toMillis(input)
      return (
        (Number.isFinite(millis) && millis >= minimumMillis) ||
        `a finite duration of at least ${minimumMillis} ms`
      )
    })
  )

const withDefault = <S extends Schema.Top>(schema: S, value: S["Encoded"]) =>
  schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

const intBetween = (minimum: number, maximum: number) =>
  Schema.Int.check(Schema.isBetween({ minimum, maximum }))

/** @category schemas */
export const WalConfig = Schema.Struct({
  dir: Schema.String.check(Schema.isMinLength(1)),
  segmentMaxBytes: withDefault(intBetween(batchSizeBytes(1), SEGMENT_MAX_BYTES_LIMIT), 16 * 1024 * 1024),
  batchMaxEvents: withDefault(intBetween(1, MAX_EVENTS_PER_BATCH), 100),
  batchMaxWait: withDefault(FiniteDuration(0), "10 millis"),
  queueCapacity: withDefault(intBetween(1, 100_000_000), 10_000),
  dedupWindow: withDefault(FiniteDuration(1), "30 seconds"),
  recoveryMode: withDefault(Schema.Literals(["tolerate-tail", "point-in-time", "strict"]), "tolerate-tail"),
  groupCommit: withDefault(Schema.Literals(["window", "eager"]), "window"),
  replay: withDefault(Schema.Literals(["collect", "none"]), "collect")
})

/** What a caller passes: `dir` and any overrides. @category models */
export type WalConfigInput = typeof WalConfig.Encoded

/** A decoded configuration with every default filled in. @category models */
export type WalConfig = typeof WalConfig.Type

/** The configuration in the units the implementation works in. @category models */
export interface ResolvedWalConfig {
  readonly dir: string
  readonly segmentMaxBytes: number
  readonly batchMaxEvents: number
  readonly batchMaxWaitMillis: number
  readonly queueCapacity: number
  readonly dedupWindowNanos: bigint
  readonly recoveryMode: RecoveryMode
  readonly groupCommit: GroupCommit
  readonly replay: ReplayMode
}

const decode = Schema.decodeUnknownExit(WalConfig)

/** @category decoding */
export const decodeWalConfig = (input: unknown): Effect.Effect<ResolvedWalConfig, InvalidConfigError> =>
  Effect.suspend(() => {
    const exit = decode(input)
    if (exit._tag === "Failure") {
      for (const reason of exit.cause.reasons) {
        if (reason._tag === "Fail")
          return Effect.fail(new InvalidConfigError(firstIssue(reason.error.issue, input)))
      }
      return Effect.fail(
        new InvalidConfigError({ field: "(root)", value: formatValue(input), detail: "invalid" })
      )
    }
    const config = exit.value
    const fullBatchBytes = batchSizeBytes(config.batchMaxEvents)
    if (config.segmentMaxBytes < fullBatchBytes) {
      return Effect.fail(
        new InvalidConfigError({
          field: "segmentMaxBytes",
          value: String(config.segmentMaxBytes),
          detail: `a full batch of batchMaxEvents = ${config.batchMaxEvents} takes ${fullBatchBytes} bytes and must fit in one segment`
        })
      )
    }
    return Effect.succeed({
      dir: config.dir,
      segmentMaxBytes: config.segmentMaxBytes,
      batchMaxEvents: config.batchMaxEvents,
      batchMaxWaitMillis: Duration.toMillis(config.batchMaxWait),
      queueCapacity: config.queueCapacity,
      dedupWindowNanos: Duration.toNanosUnsafe(config.dedupWindow),
      recoveryMode: config.recoveryMode,
      groupCommit: config.groupCommit,
      replay: config.replay
    })
  })
