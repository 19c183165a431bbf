/**
 * A clock that works until it is armed, then throws from every `currentTimeNanos` read: the
 * writer reads it when it stages a batch, so arming it plants a defect inside the writer loop.
 */
import { Clock, Effect } from "effect"

export interface BreakableClock {
  readonly clock: Clock.Clock
  /** From now on (until `disarm`), reading the time in nanoseconds throws. */
  readonly arm: () => void
  readonly disarm: () => void
}

export const makeBreakableClock = Effect.gen(function* () {
  const real = yield* Clock.Clock
  let armed = false
  const breaks = (): void => {
    if (armed) throw new Error("broken clock")
  }
  const clock: Clock.Clock = {
    currentTimeMillisUnsafe: () => real.currentTimeMillisUnsafe(),
    currentTimeMillis: real.currentTimeMillis,
    currentTimeNanosUnsafe: () => {
      breaks()
      return real.currentTimeNanosUnsafe()
    },
    currentTimeNanos: Effect.suspend(() => {
      breaks()
      return real.currentTimeNanos
    }),
    monotonicTimeNanosUnsafe: () => real.monotonicTimeNanosUnsafe(),
    monotonicTimeNanos: real.monotonicTimeNanos,
    sleep: (duration) => real.sleep(duration)
  }
  const breakable: BreakableClock = {
    clock,
    arm: () => {
      armed = true
    },
    disarm: () => {
      armed = false
    }
  }
  return breakable
})
