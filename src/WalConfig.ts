/**
 * The configuration of a WAL (README "Configuration"): a Schema with the documented defaults and bounds.
 *
 * Durations decode to a `Duration` from any `Duration.Input` — `"10 millis"`, a number of
 * milliseconds, a bigint of nanoseconds, `[seconds, nanos]`, `{ seconds: 1 }`, a `Duration` —
 * through structural schemas, so the same Schema decodes a plain object (`decodeWalConfig`) and
 * reads a `Config` (`Config.schema(WalConfig, "wal")`, where every leaf is a string: `"250"` is
 * 250 ms, `"10 millis"` as written). `decodeWalConfig` fails with `InvalidConfigError` naming the
 * field and value; the relation between fields (a full batch must fit in a segment) is checked
 * after the per-field rules. `walConfigFromConfig` turns `Config` values into the input that
 * `WalHandle.layerConfig` decodes.
 *
 * Every number has an upper bound (`WalConfigLimits`): the largest value the implementation can
 * honour — the memory open preallocates, the buffer a segment is read into, exact clock
 * arithmetic — so a config that decodes is a config that opens. Unknown keys are rejected: a
 * misspelt field would otherwise fall back to its default without a word.
 *
 * @since 0.1.0
 */
import { Cause, Config, Duration, Effect, Schema, SchemaIssue, SchemaTransformation } from "effect"
import { batchSizeBytes } from "./internal/format/batchCodec.ts"
import { describeThrown, firstIssue, formatValue } from "./internal/schemaIssue.ts"
import { InvalidConfigError } from "./WalError.ts"

/** @category models */
export type RecoveryMode = "tolerate-tail" | "point-in-time" | "strict"

/**
 * How the writer closes a batch. `"window"` (the default): at `batchMaxEvents`, or `batchMaxWait`
 * after the batch's first event. `"eager"`: as soon as the previous sync is done and something is
 * waiting, so a lone appender waits one sync instead of the window.
 *
 * @category models
 */
export type GroupCommit = "window" | "eager"

/** @category models */
export type ReplayMode = "collect" | "none"

/**
 * The largest value each setting may take: what the implementation can honour. Each bound is
 * documented on the field; the README's "Configuration bounds" table says the same.
 *
 * @category constants
 */
export const WalConfigLimits = {
  /**
   * 1 GiB. Segments are read in 16 MiB chunks, so the bound is not memory: a larger segment only
   * makes truncation coarser, and its name's sequence number a worse guide to where an event is.
   */
  segmentMaxBytes: 1_073_741_824,
  /**
   * 65,536 events (a 1.3 MiB batch). Open preallocates per unit about 2.1 KB: nine staging
   * buffers (`MAX_UNSYNCED_BATCHES + 1`) of 62 bytes an event, and a pending-keys table of
   * 36–72 slots an event at 24 bytes a slot. Measured: 2,127 bytes a unit, 140 MB at this bound
   * (2.1 GB at a million, which is why larger values never opened on a small host).
   */
  batchMaxEvents: 65_536,
  /**
   * 1,000,000 requests. Costs nothing at open (the queue grows as it fills), but a full queue
   * holds that many waiting requests, each an append (measured 190 bytes with its captured event,
   * so 190 MB at this bound, plus the callers' fibers) or an `appendAll` chunk of up to
   * `batchMaxEvents` events.
   */
  queueCapacity: 1_000_000,
  /**
   * 60 s. A lone append waits up to the window for its acknowledgement, so a longer window
   * only turns appends into timeouts. The deadline is float milliseconds from `Clock`
   * (now + window), exact to the millisecond far beyond this bound.
   */
  batchMaxWaitMillis: 60_000,
  /**
   * 24 h. A written event's key stays in memory for one to two windows (under 40 bytes a key),
   * so the window multiplies the append rate into memory; a day is far past any retry. The
   * window is bigint nanoseconds, converted exactly from milliseconds up to this bound and beyond.
   */
  dedupWindowMillis: 86_400_000
} as const

const MILLIS_PER_SECOND = 1000
const MILLIS_PER_HOUR = 3_600_000

const optionalNumber = Schema.optional(Schema.Number)

/** `Duration.DurationObject`, field by field: `{ seconds: 1, milliseconds: 500 }`. */
const DurationObject = Schema.Struct({
  weeks: optionalNumber,
  days: optionalNumber,
  hours: optionalNumber,
  minutes: optionalNumber,
  seconds: optionalNumber,
  milliseconds: optionalNumber,
  microseconds: optionalNumber,
  nanoseconds: optionalNumber
})

const DURATION_FORMS =
  '"10 millis", "2 seconds", a number of milliseconds, a bigint of nanoseconds, [seconds, nanos] or { seconds: 1 }'

/**
 * Every shape of `Duration.Input`, each a structural Schema (so `Config.schema` can read it from
 * strings: `"250"` is tried as a number of milliseconds before it is tried as `"250 millis"`).
 */
const DurationInput = Schema.Union([
  // First, so a value no member takes is reported with this message rather than "Expected Duration".
  Schema.Duration.annotate({ message: `Expected a duration: ${DURATION_FORMS}` }),
  Schema.Number,
  Schema.BigInt,
  Schema.String,
  Schema.Tuple([Schema.Number, Schema.Number]),
  DurationObject
])

/** Duration reads NaN as zero; a NaN is a bug upstream, not a request for no wait. */
const containsNaN = (input: unknown): boolean =>
  typeof input === "number"
    ? Number.isNaN(input)
    : typeof input === "object" && input !== null && !Duration.isDuration(input)
      ? Object.values(input).some((part) => typeof part === "number" && Number.isNaN(part))
      : false

/** The decoding of `DurationInput`; a `Duration` encodes as itself, the first member. */
const durationFromInput = (expected: string) =>
  SchemaTransformation.transformEffect<Duration.Duration, typeof DurationInput.Type>({
    decode: (input, options) => {
      if (containsNaN(input)) {
        return Effect.fail(
          new SchemaIssue.InvalidValue(
            { message: `NaN is not a duration: expected ${expected}` },
            input,
            options
          )
        )
      }
      const duration = Duration.fromInput(input as Duration.Input)
      return duration._tag === "Some"
        ? Effect.succeed(duration.value)
        : Effect.fail(
            new SchemaIssue.InvalidValue(
              { message: `Expected ${expected}, written as ${DURATION_FORMS}` },
              input,
              options
            )
          )
    },
    encode: Effect.succeed
  })

/** "60000 ms (60 s)": a bound in the unit the config is usually written in, and a rounder one. */
const showMillis = (millis: number): string => {
  if (millis > 0 && millis % MILLIS_PER_HOUR === 0) return `${millis} ms (${millis / MILLIS_PER_HOUR} h)`
  if (millis > 0 && millis % MILLIS_PER_SECOND === 0) return `${millis} ms (${millis / MILLIS_PER_SECOND} s)`
  return `${millis} ms`
}

const BoundedDuration = (minimumMillis: number, maximumMillis: number) => {
  const expected = `a duration from ${showMillis(minimumMillis)} to ${showMillis(maximumMillis)}`
  return DurationInput.pipe(
    Schema.decodeTo(
      Schema.Duration.check(
        Schema.makeFilter((duration: Duration.Duration) => {
          const millis = Duration.toMillis(duration)
          return (Number.isFinite(millis) && millis >= minimumMillis && millis <= maximumMillis) || expected
        })
      ),
      durationFromInput(expected)
    )
  )
}

const withDefault = <S extends Schema.Top>(schema: S, value: S["Encoded"]) =>
  schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

const intBetween = (minimum: number, maximum: number) =>
  Schema.Int.check(Schema.isBetween({ minimum, maximum }))

const Directory = Schema.String.check(
  Schema.isMinLength(1),
  // Node rejects such a path only once the directory is touched; say so at decode time.
  Schema.makeFilter((dir: string) => !dir.includes("\0") || "a path without NUL characters")
)

/**
 * The configuration schema. Decode it with `decodeWalConfig`, which also rejects unknown keys
 * (a misspelt `recoverymode` must not silently open in the default mode) and reads each field
 * of the input exactly once.
 *
 * @category schemas
 */
export const WalConfig = Schema.Struct({
  dir: Directory,
  segmentMaxBytes: withDefault(
    intBetween(batchSizeBytes(1), WalConfigLimits.segmentMaxBytes),
    16 * 1024 * 1024
  ),
  batchMaxEvents: withDefault(intBetween(1, WalConfigLimits.batchMaxEvents), 100),
  batchMaxWait: withDefault(BoundedDuration(0, WalConfigLimits.batchMaxWaitMillis), "10 millis"),
  queueCapacity: withDefault(intBetween(1, WalConfigLimits.queueCapacity), 10_000),
  dedupWindow: withDefault(BoundedDuration(0, WalConfigLimits.dedupWindowMillis), "30 seconds"),
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

/**
 * The configuration read from `Config` values, in the style of `NodeHttpServer.layerConfig`: a
 * record with a `Config` for each field you set (`{ dir: Config.String("WAL_DIR") }`), or one
 * `Config` of the whole input (`Config.schema(WalConfig, "wal")`). What `WalHandle.layerConfig`
 * takes; the result is decoded by `decodeWalConfig` like any other input, so the bounds, the
 * defaults and the rejection of unknown keys are the same.
 *
 * @category config
 */
export const walConfigFromConfig = (config: Config.Wrap<WalConfigInput>): Config.Config<WalConfigInput> =>
  Config.unwrap(config)

// Belt and braces: the captured input holds only known keys, and the Schema would reject others.
const decode = Schema.decodeUnknownExit(WalConfig, { onExcessProperty: "error" })

/**
 * Decodes a configuration: the fields are read once each (own or inherited, getters included),
 * unknown keys are rejected, then the Schema's rules and the relation between fields apply.
 * Whatever `input` is — `null`, a Proxy, an object whose getter throws — the result is an
 * `InvalidConfigError` naming the field, never a defect.
 *
 * @category decoding
 */
export const decodeWalConfig = (input: unknown): Effect.Effect<ResolvedWalConfig, InvalidConfigError> =>
  Effect.suspend(() => {
    const captured = captureConfigInput(input)
    if (captured instanceof InvalidConfigError) return Effect.fail(captured)
    const decoded = decodeCaptured(captured)
    if (decoded instanceof InvalidConfigError) return Effect.fail(decoded)
    const fullBatchBytes = batchSizeBytes(decoded.batchMaxEvents)
    if (decoded.segmentMaxBytes < fullBatchBytes) {
      return Effect.fail(
        new InvalidConfigError({
          field: "segmentMaxBytes",
          value: String(decoded.segmentMaxBytes),
          detail: `a full batch of batchMaxEvents = ${decoded.batchMaxEvents} takes ${fullBatchBytes} bytes and must fit in one segment`
        })
      )
    }
    return Effect.succeed(resolve(decoded))
  })

// internals

const FIELD_NAMES: ReadonlyArray<string> = Object.keys(WalConfig.fields)
const KNOWN_FIELDS: ReadonlySet<PropertyKey> = new Set(FIELD_NAMES)

/**
 * Copies the known fields of `input` into a plain object, reading each once, or names the first
 * problem: not an object, an unknown key, a getter or Proxy trap that throws. An explicit
 * `undefined` counts as absent, so the default applies.
 */
const captureConfigInput = (input: unknown): Record<string, unknown> | InvalidConfigError => {
  if (typeof input !== "object" || input === null) {
    return rootError(input, 'expected a configuration object such as { dir: "./wal" }')
  }
  const record = input as Record<PropertyKey, unknown>
  const unknownKey = findUnknownKey(record)
  if (unknownKey !== undefined) return unknownKey
  const captured: Record<string, unknown> = {}
  for (const field of FIELD_NAMES) {
    try {
      const value = record[field]
      if (value !== undefined) captured[field] = value
    } catch (cause) {
      return new InvalidConfigError({
        field,
        value: "(unreadable)",
        detail: `reading it threw: ${describeThrown(cause)}`
      })
    }
  }
  return captured
}

/** The error for the first enumerable own key that is not a field, as Schema would see it. */
const findUnknownKey = (record: Record<PropertyKey, unknown>): InvalidConfigError | undefined => {
  let keys: ReadonlyArray<PropertyKey>
  try {
    if (Array.isArray(record)) return rootError(record, "expected a configuration object, not an array")
    keys = Reflect.ownKeys(record).filter(
      (key) => !KNOWN_FIELDS.has(key) && Object.prototype.propertyIsEnumerable.call(record, key)
    )
  } catch (cause) {
    return rootError(record, `listing its keys threw: ${describeThrown(cause)}`)
  }
  const key = keys[0]
  if (key === undefined) return undefined
  const field = typeof key === "symbol" ? key.toString() : String(key)
  return new InvalidConfigError({
    field,
    value: readForMessage(record, key),
    detail: unknownKeyDetail(field)
  })
}

const unknownKeyDetail = (field: string): string => {
  const lower = field.toLowerCase()
  const near = FIELD_NAMES.find((known) => known.toLowerCase() === lower)
  const hint = near === undefined ? "" : ` (did you mean "${near}"?)`
  return `unknown key${hint}; the keys are ${FIELD_NAMES.join(", ")}`
}

const readForMessage = (record: Record<PropertyKey, unknown>, key: PropertyKey): string => {
  try {
    return formatValue(record[key])
  } catch {
    return "(unreadable)"
  }
}

/** Runs the Schema on the captured fields; a field holding a hostile object is named, not thrown. */
const decodeCaptured = (captured: Record<string, unknown>): WalConfig | InvalidConfigError => {
  let failure: unknown
  try {
    const exit = decode(captured)
    if (exit._tag === "Success") return exit.value
    for (const reason of exit.cause.reasons) {
      if (reason._tag === "Fail") return new InvalidConfigError(firstIssue(reason.error.issue, captured))
    }
    failure = Cause.squash(exit.cause)
  } catch (cause) {
    failure = cause
  }
  // Only an object can run code while the Schema inspects it (a Proxy in a duration field).
  const field = FIELD_NAMES.find((name) => typeof captured[name] === "object" && captured[name] !== null)
  return new InvalidConfigError({
    field: field ?? "(root)",
    value: formatValue(field === undefined ? captured : captured[field]),
    detail: `inspecting it threw: ${describeThrown(failure)}`
  })
}

const resolve = (config: WalConfig): ResolvedWalConfig => ({
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

const rootError = (input: unknown, detail: string): InvalidConfigError =>
  new InvalidConfigError({ field: "(root)", value: formatValue(input), detail })
