/**
 * The signal event data model (SPEC §1): schemas, types and the named signal types.
 *
 * `SignalEvent` is the Schema every appended event must satisfy. Appends are the hot path, so the
 * writer checks events with `isSignalEvent`, a hand-written predicate that a property test proves
 * equal to `Schema.is(SignalEvent)`; only a rejected event pays for a Schema decode, which names
 * the failing field and value in an `InvalidEventError`.
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import { firstIssue } from "./internal/schemaIssue.ts"
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
 * The same rules as `SignalEvent`, without allocating: used on every append.
 *
 * @category guards
 */
export const isSignalEvent = (u: unknown): u is SignalEvent => {
  if (typeof u !== "object" || u === null) return false
  const e = u as Record<string, unknown>
  const entityId = e.entityId
  const signalType = e.signalType
  const weight = e.weight
  const timestamp = e.timestamp
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

const decodeEvent = Schema.decodeUnknownExit(SignalEvent)

/**
 * Fails with `InvalidEventError` naming the first bad field and its value.
 *
 * @category validation
 */
export const validateSignalEvent = (u: unknown): Effect.Effect<SignalEvent, InvalidEventError> =>
  isSignalEvent(u) ? Effect.succeed(u) : Effect.fail(invalidEventError(u))

/** @internal */
export const invalidEventError = (u: unknown): InvalidEventError => {
  const exit = decodeEvent(u)
  if (exit._tag === "Failure") {
    for (const reason of exit.cause.reasons) {
      if (reason._tag === "Fail") return new InvalidEventError(firstIssue(reason.error.issue, u))
    }
  }
  // Only reachable if the predicate and the schema disagree, which a property test rules out.
  return new InvalidEventError({ field: "(root)", value: String(u), detail: "rejected by isSignalEvent" })
}
