/**
 * The signal event data model (docs/FORMAT.md §2): schemas, types and the named signal types.
 *
 * `SignalEvent` is the Schema every appended event must satisfy. Appends are the hot path, so an
 * event is checked by hand-written rules that a property test proves equal to
 * `Schema.is(SignalEvent)`; only a rejected event pays for a Schema decode, which names the
 * failing field and value in an `InvalidEventError`.
 *
 * `captureSignalEvent` is what `append` uses: it reads each of the four fields exactly once and
 * copies them into a fresh object of its own, so what is validated is what gets written — a
 * getter, a Proxy or a caller reusing its object cannot change the event after the check.
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import { describeThrown, firstIssue, formatValue } from "./internal/schemaIssue.ts"
import { InvalidEventError } from "./WalError.ts"

/** @category constants */
export const SignalType = {
  view: 0,
  like: 1,
  skip: 2,
  completion: 3
} as const

/** Largest finite f32: any larger |weight| would become Infinity on disk. */
export const F32_MAX = 3.4028234663852886e38
const U64_MAX = 0xffff_ffff_ffff_ffffn

const U64 = Schema.BigInt.check(Schema.isBetweenBigInt({ minimum: 0n, maximum: U64_MAX }))

/** @category schemas */
export const SignalEvent = Schema.Struct({
  entityId: U64,
  signalType: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 255 })),
  weight: Schema.Finite.check(Schema.isBetween({ minimum: -F32_MAX, maximum: F32_MAX })),
  timestamp: U64
})

/** @category models */
export interface SignalEvent {
  readonly entityId: bigint
  readonly signalType: number
  readonly weight: number
  readonly timestamp: bigint
}

/** @category schemas */
export const ReplayedEvent = Schema.Struct({
  ...SignalEvent.fields,
  seq: U64
})

/** @category models */
export interface ReplayedEvent extends SignalEvent {
  readonly seq: bigint
}

/**
 * The rules of `SignalEvent` on fields already read (`readEventFields`): no getter or Proxy trap
 * runs here.
 *
 * @internal
 */
export const hasValidFields = (e: EventFields): e is SignalEvent => {
  const { entityId, signalType, weight, timestamp } = e
  return (
    typeof entityId === "bigint" &&
    entityId >= 0n &&
    entityId <= U64_MAX &&
    typeof signalType === "number" &&
    Number.isInteger(signalType) &&
    signalType >= 0 &&
    signalType <= 255 &&
    typeof weight === "number" &&
    weight >= -F32_MAX &&
    weight <= F32_MAX &&
    typeof timestamp === "bigint" &&
    timestamp >= 0n &&
    timestamp <= U64_MAX
  )
}

/**
 * The same rules as `SignalEvent`, without allocating. Never throws: a value whose fields cannot
 * be read (a throwing getter or Proxy trap) is not a `SignalEvent`.
 *
 * @category guards
 */
export const isSignalEvent = (u: unknown): u is SignalEvent => {
  if (typeof u !== "object" || u === null) return false
  try {
    return !Array.isArray(u) && hasValidFields(u as EventFields)
  } catch {
    return false
  }
}

const decodeEvent = Schema.decodeUnknownExit(SignalEvent)

/**
 * One call's event as captured: a class rather than an object literal, whose allocation site V8
 * may pretenure (allocate in old space) — an old capture keeps the caller's young `BigInt`s alive
 * until the next full GC. Measured at 1000 appenders: 1 run of 4 promoted 2.3 MB a scavenge with
 * the literal, none of 9 with the class (see `AppendOneRequest` in writer/requests.ts).
 */
class CapturedFields implements EventFields {
  entityId: unknown = undefined
  signalType: unknown = undefined
  weight: unknown = undefined
  timestamp: unknown = undefined
}

/**
 * Reads the four fields of `u` once each — own or inherited, plain or getter, through a Proxy —
 * and returns a fresh object holding exactly those values, or the `InvalidEventError` for
 * the first bad one. Any other property of `u` is ignored. Nothing the caller holds can reach the
 * returned object, so the event written is the event validated. Never throws.
 *
 * @category validation
 */
export const captureSignalEvent = (u: unknown): SignalEvent | InvalidEventError => {
  const event = new CapturedFields()
  const unreadable = readEventFields(u, event)
  if (unreadable !== undefined) return unreadable
  return hasValidFields(event) ? event : invalidEventError(event)
}

/**
 * The four fields of an event as read from a caller's value, before they are checked; written by
 * `readEventFields`.
 *
 * @internal
 */
export interface EventFields {
  entityId: unknown
  signalType: unknown
  weight: unknown
  timestamp: unknown
}

/**
 * Reads the four fields of `u` once each into `into`, or answers the `InvalidEventError` for a
 * value that is not an object or whose fields cannot be read. `into` is the caller's: `appendAll`
 * reuses one for every event of a call, so capturing allocates nothing per event. Never throws.
 *
 * @internal
 */
export const readEventFields = (u: unknown, into: EventFields): InvalidEventError | undefined => {
  if (typeof u !== "object" || u === null) return invalidEventError(u)
  const e = u as EventFields
  let field: keyof EventFields | "(root)" = "(root)"
  try {
    // The Schema takes no array for a struct; `isArray` sits in the try: a revoked Proxy throws.
    if (Array.isArray(u)) return notAnObject(u, "not an array")
    field = "entityId"
    into.entityId = e.entityId
    field = "signalType"
    into.signalType = e.signalType
    field = "weight"
    into.weight = e.weight
    field = "timestamp"
    into.timestamp = e.timestamp
  } catch (cause) {
    return unreadableError(field, cause)
  }
  return undefined
}

const unreadableError = (field: keyof EventFields | "(root)", cause: unknown): InvalidEventError =>
  new InvalidEventError({
    field,
    value: "(unreadable)",
    detail: `reading it threw: ${describeThrown(cause)}`
  })

/**
 * Fails with `InvalidEventError` naming the first bad field and its value; succeeds with a copy
 * as a plain object, each field read once (see `captureSignalEvent`).
 *
 * @category validation
 */
export const validateSignalEvent = (u: unknown): Effect.Effect<SignalEvent, InvalidEventError> => {
  const captured = captureSignalEvent(u)
  if (captured instanceof InvalidEventError) return Effect.fail(captured)
  const { entityId, signalType, weight, timestamp } = captured
  return Effect.succeed({ entityId, signalType, weight, timestamp })
}

/**
 * The error for a value that is not a valid event. Give it a primitive, or the object of fields
 * `captureSignalEvent` read: the Schema decode reads the fields again, which must not call
 * a caller's getter twice or run a caller's Proxy traps.
 *
 * @internal
 */
export const invalidEventError = (u: unknown): InvalidEventError => {
  try {
    const exit = decodeEvent(u)
    if (exit._tag === "Failure") {
      for (const reason of exit.cause.reasons) {
        if (reason._tag === "Fail") return new InvalidEventError(firstIssue(reason.error.issue, u))
      }
    }
  } catch {
    // A field holding a hostile object (a Proxy whose traps throw) broke the Schema's report.
  }
  return fallbackError(u)
}

// internals

const notAnObject = (u: unknown, detail: string): InvalidEventError =>
  new InvalidEventError({ field: "(root)", value: formatValue(u), detail: `expected an object, ${detail}` })

/**
 * Names the first field holding an object when the Schema could not report: only an object can
 * run code while being inspected, and no field of a `SignalEvent` is an object.
 */
const fallbackError = (u: unknown): InvalidEventError => {
  if (typeof u !== "object" || u === null) return notAnObject(u, `got ${u === null ? "null" : typeof u}`)
  const fields = u as EventFields
  for (const field of FIELD_NAMES) {
    const value = fields[field]
    if ((typeof value === "object" && value !== null) || typeof value === "function") {
      return new InvalidEventError({
        field,
        value: formatValue(value),
        detail: "expected a bigint or a number"
      })
    }
  }
  return new InvalidEventError({ field: "(root)", value: formatValue(u), detail: "not a SignalEvent" })
}

const FIELD_NAMES = ["entityId", "signalType", "weight", "timestamp"] as const
