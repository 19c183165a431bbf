/**
 * Events as JSON: Schema codecs between `SignalEvent` / `ReplayedEvent` and plain JSON objects,
 * for services that take events over HTTP and hand the log back out.
 *
 * JSON has no bigint, and `JSON.stringify` throws on one, so every u64 field (`entityId`,
 * `timestamp`, `seq`) is a decimal string: `"18446744073709551615"`, written without sign,
 * exponent, fraction or leading zeros. On input a JSON number is accepted too when it is a safe
 * integer (at most 2^53 − 1): `JSON.parse` has already rounded anything larger, so a larger number
 * is refused rather than stored as a different value — send it as a string. `signalType` is a
 * name (`"view"`, `"like"`, `"skip"`, `"completion"`) or a number 0…255; the known types are
 * written as names. `weight` is a JSON number, stored as f32 (0.1 comes back as
 * 0.10000000149011612). Keys other than the fields are ignored, as Schema does by default.
 *
 * ```ts
 * const event = Schema.decodeUnknownSync(SignalEventFromJson)(JSON.parse(body))
 * const line = JSON.stringify(Schema.encodeSync(ReplayedEventFromJson)(replayed))
 * ```
 *
 * @since 0.1.0
 */
import { Effect, Schema, SchemaIssue, SchemaTransformation } from "effect"
import { describeThrown, firstIssue, formatValue } from "./internal/schemaIssue.ts"
import { SignalEvent, SignalType } from "./SignalEvent.ts"
import { InvalidEventError } from "./WalError.ts"

const U64_MAX = 0xffff_ffff_ffff_ffffn
/** Canonical decimal: `0`, or no leading zero; at most 20 digits (u64 max has 20). */
const U64_DECIMAL = /^(?:0|[1-9][0-9]{0,19})$/
const U64_EXPECTED = `a u64 as a decimal string ("0" … "${U64_MAX}") or a safe integer`

const u64FromJson = SchemaTransformation.transformEffect<bigint, string | number>({
  decode: (input, options) => {
    const fail = (detail: string) =>
      Effect.fail(
        new SchemaIssue.InvalidValue({ message: `Expected ${U64_EXPECTED}${detail}` }, input, options)
      )
    if (typeof input === "number") {
      if (Number.isSafeInteger(input) && input >= 0) return Effect.succeed(BigInt(input))
      return fail(input > Number.MAX_SAFE_INTEGER ? "; a number this large has lost digits already" : "")
    }
    if (!U64_DECIMAL.test(input)) return fail("")
    const value = BigInt(input)
    return value <= U64_MAX ? Effect.succeed(value) : fail("; it is larger than 2^64 − 1")
  },
  encode: (value) => Effect.succeed(String(value))
})

/** A u64 in JSON: written as a decimal string, read from one or from a safe integer. */
const U64FromJson = Schema.Union([Schema.String, Schema.Number]).pipe(
  Schema.decodeTo(SignalEvent.fields.entityId, u64FromJson)
)

type SignalTypeName = keyof typeof SignalType
const SIGNAL_TYPE_NAMES = Object.keys(SignalType) as ReadonlyArray<SignalTypeName>
const NAME_OF_CODE: ReadonlyMap<number, SignalTypeName> = new Map(
  SIGNAL_TYPE_NAMES.map((name) => [SignalType[name], name])
)

/** A signal type in JSON: a name or a number on input; a name when it has one on output. */
const SignalTypeFromJson = Schema.Union([
  // First, so a value neither member takes is reported with this message.
  Schema.Literals(SIGNAL_TYPE_NAMES).annotate({
    message: `Expected a signal type: ${SIGNAL_TYPE_NAMES.map((name) => `"${name}"`).join(", ")} or a number 0…255`
  }),
  Schema.Number
]).pipe(
  Schema.decodeTo(
    SignalEvent.fields.signalType,
    SchemaTransformation.transform({
      decode: (input: SignalTypeName | number) => (typeof input === "number" ? input : SignalType[input]),
      encode: (code: number) => NAME_OF_CODE.get(code) ?? code
    })
  )
)

/**
 * A `SignalEvent` from a JSON object: `{ "entityId": "42", "signalType": "like", "weight": 1.5,
 * "timestamp": "1700000000000000000" }`. Encoding gives the same shape, ready for `JSON.stringify`.
 *
 * @category json
 */
export const SignalEventFromJson = Schema.Struct({
  entityId: U64FromJson,
  signalType: SignalTypeFromJson,
  weight: SignalEvent.fields.weight,
  timestamp: U64FromJson
})

/**
 * A `ReplayedEvent` from a JSON object: the fields of `SignalEventFromJson` after `"seq"`, also a
 * decimal string. Encode with it to write replayed events as JSON (what `tidal-wal dump` prints,
 * except that the signal types are names here).
 *
 * @category json
 */
export const ReplayedEventFromJson = Schema.Struct({
  seq: U64FromJson,
  ...SignalEventFromJson.fields
})

/**
 * `ReplayedEventFromJson` turned around: decoding takes a `ReplayedEvent` and gives its JSON
 * object, so `Schema.decodeSync(ReplayedEventToJson)(event)` is what `JSON.stringify` takes.
 *
 * @category json
 */
export const ReplayedEventToJson = Schema.flip(ReplayedEventFromJson)

/** A `SignalEvent` as JSON, as `SignalEventFromJson` writes it. @category models */
export type SignalEventJson = typeof SignalEventFromJson.Encoded

/** A `ReplayedEvent` as JSON, as `ReplayedEventFromJson` writes it. @category models */
export type ReplayedEventJson = typeof ReplayedEventFromJson.Encoded

const decodeFromJson = Schema.decodeUnknownExit(SignalEventFromJson)

/**
 * Decodes a parsed JSON value (what `JSON.parse` returned) into a `SignalEvent`, failing with the
 * `InvalidEventError` that `append` would give: the first bad field and its value.
 *
 * @category json
 */
export const decodeSignalEventJson = (json: unknown): Effect.Effect<SignalEvent, InvalidEventError> =>
  Effect.suspend(() => {
    try {
      const exit = decodeFromJson(json)
      if (exit._tag === "Success") return Effect.succeed(exit.value)
      for (const reason of exit.cause.reasons) {
        if (reason._tag === "Fail")
          return Effect.fail(new InvalidEventError(firstIssue(reason.error.issue, json)))
      }
      return Effect.fail(unreadable(json, "the decoder failed without an issue"))
    } catch (cause) {
      // Only a hostile object (a Proxy whose traps throw) gets here; JSON.parse never makes one.
      return Effect.fail(unreadable(json, `reading it threw: ${describeThrown(cause)}`))
    }
  })

const unreadable = (json: unknown, detail: string): InvalidEventError =>
  new InvalidEventError({ field: "(root)", value: formatValue(json), detail })
