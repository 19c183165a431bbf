/**
 * Helpers for the hostile-input tests: run an effect and insist that it ends in a typed
 * `WalError` — not a defect, not a hang — and build the odd values callers can pass.
 */
import { assert } from "@effect/vitest"
import { Cause, Effect, Exit } from "effect"
import { isWalError, type WalError } from "../../src/index.ts"

/** Far beyond anything these calls need; a hang fails the test instead of stalling the run. */
const HANG_LIMIT = "5 seconds"

/**
 * The typed error `effect` fails with. Fails the test on success, on a defect (a `Die` in the
 * cause: something threw), on an error that is not a `WalError`, and on a hang.
 */
export const typedFailure = <A, E, R>(effect: Effect.Effect<A, E, R>, label: string) =>
  Effect.gen(function* () {
    const exit = yield* Effect.exit(
      Effect.timeout(
        Effect.suspend(() => effect),
        HANG_LIMIT
      )
    )
    if (Exit.isSuccess(exit)) return assert.fail(`${label}: succeeded, expected a typed error`)
    assert.isFalse(Cause.hasDies(exit.cause), `${label}: a defect: ${Cause.pretty(exit.cause)}`)
    const error = Cause.findErrorOption(exit.cause)
    if (error._tag === "None") return assert.fail(`${label}: no error in ${Cause.pretty(exit.cause)}`)
    const value: unknown = error.value
    if (!isWalError(value)) return assert.fail(`${label}: not a WalError: ${String(value)}`)
    return value as WalError
  })

/** Asserts the error's tag and, for errors that name one, the field. */
export const assertNames = (
  error: WalError,
  tag: WalError["_tag"],
  field: string | undefined,
  label: string
) => {
  assert.strictEqual(error._tag, tag, `${label}: ${error.message}`)
  if (field !== undefined && "field" in error)
    assert.strictEqual(error.field, field, `${label}: ${error.message}`)
  // Building the message must not throw either, whatever value it shows.
  assert.isString(error.message)
}

/** An object whose every trap throws. */
export const throwingProxy = (): object =>
  new Proxy(
    {},
    {
      get: () => {
        throw new Error("get trap")
      },
      has: () => {
        throw new Error("has trap")
      },
      ownKeys: () => {
        throw new Error("ownKeys trap")
      },
      getOwnPropertyDescriptor: () => {
        throw new Error("getOwnPropertyDescriptor trap")
      },
      getPrototypeOf: () => {
        throw new Error("getPrototypeOf trap")
      }
    }
  )

/** A Proxy that was revoked: every operation on it throws a TypeError. */
export const revokedProxy = (): object => {
  const { proxy, revoke } = Proxy.revocable({}, {})
  revoke()
  return proxy
}

/** `base` with the getter of `field` throwing. */
export const withThrowingGetter = (base: object, field: string): object =>
  Object.defineProperty({ ...base }, field, {
    enumerable: true,
    get: () => {
      throw new Error(`${field} getter`)
    }
  })
