/**
 * What the shipper has shipped and how it is doing, and the callers waiting for it to ship far
 * enough. One mutable record owned by the shipping fiber; readers get snapshots through Effects.
 *
 * `shippedSeq` only moves forward, and only after JetStream acknowledged every event up to it.
 * Once the shipper stops — for good, after a failure it cannot retry, or because its scope or
 * the WAL closed — every waiter and every later `awaitShipped` beyond `shippedSeq` fails with why.
 */
import { Deferred, Effect, Exit } from "effect"
import type { Target } from "./connection.ts"
import { JetStreamError } from "./JetStreamError.ts"

/**
 * - `Shipping`: connected and following the WAL.
 * - `Retrying`: the last attempt failed with a transient `error`; the shipper retries.
 * - `Failed`: stopped for good on `error` (not transient); the WAL keeps the unshipped events.
 * - `Stopped`: the shipper's scope closed or the WAL shut down.
 */
export type ShipperStatus =
  | { readonly _tag: "Shipping" }
  | { readonly _tag: "Retrying"; readonly error: JetStreamError; readonly attempt: number }
  | { readonly _tag: "Failed"; readonly error: JetStreamError }
  | { readonly _tag: "Stopped" }

interface Waiter {
  readonly seq: bigint
  readonly done: Deferred.Deferred<void, JetStreamError>
}

export class ShipperState {
  private shipped: bigint
  private current: ShipperStatus = { _tag: "Shipping" }
  private waiters: Array<Waiter> = []
  private readonly stoppedWith = Deferred.makeUnsafe<JetStreamError>()
  private readonly target: Target

  constructor(target: Target, shippedSeq: bigint) {
    this.target = target
    this.shipped = shippedSeq
  }

  get shippedSeq(): bigint {
    return this.shipped
  }

  get status(): ShipperStatus {
    return this.current
  }

  /** JetStream acknowledged every event up to `seq`. */
  shippedUpTo(seq: bigint): void {
    if (seq <= this.shipped) return
    this.shipped = seq
    if (this.current._tag === "Retrying") this.current = { _tag: "Shipping" }
    if (this.waiters.length === 0) return
    const waiting: Array<Waiter> = []
    for (const waiter of this.waiters) {
      if (waiter.seq <= seq) Deferred.doneUnsafe(waiter.done, Exit.void)
      else waiting.push(waiter)
    }
    this.waiters = waiting
  }

  /** A session started: connected, the stream checked, the copy's end read. */
  resumed(): void {
    if (this.current._tag === "Retrying") this.current = { _tag: "Shipping" }
  }

  retrying(error: JetStreamError, attempt: number): void {
    if (this.isStopped()) return
    this.current = { _tag: "Retrying", error, attempt }
  }

  /** Stops for good: `error` is the failure, or `undefined` for a clean stop. */
  stop(error: JetStreamError | undefined): void {
    if (this.isStopped()) return
    this.current = error === undefined ? { _tag: "Stopped" } : { _tag: "Failed", error }
    const why = error ?? this.stoppedError()
    for (const waiter of this.waiters) Deferred.doneUnsafe(waiter.done, Exit.fail(why))
    this.waiters = []
    Deferred.doneUnsafe(this.stoppedWith, Exit.succeed(why))
  }

  /** Succeeds once every event up to `seq` is acknowledged; fails if the shipper stops first. */
  awaitShipped(seq: bigint): Effect.Effect<void, JetStreamError> {
    return Effect.suspend(() => {
      if (seq <= this.shipped) return Effect.void
      if (this.current._tag === "Failed") return Effect.fail(this.current.error)
      if (this.current._tag === "Stopped") return Effect.fail(this.stoppedError(seq))
      const done = Deferred.makeUnsafe<void, JetStreamError>()
      this.waiters.push({ seq, done })
      return Deferred.await(done)
    })
  }

  /** Succeeds with why the shipper stopped, once it has. */
  get stopped(): Effect.Effect<JetStreamError> {
    return Deferred.await(this.stoppedWith)
  }

  private isStopped(): boolean {
    return this.current._tag === "Failed" || this.current._tag === "Stopped"
  }

  private stoppedError(seq?: bigint): JetStreamError {
    const wanted = seq === undefined ? "" : ` before shipping up to ${seq}`
    return new JetStreamError({
      ...this.target,
      reason: "Stopped",
      detail: `the shipper stopped${wanted}; shipped up to ${this.shipped}`
    })
  }
}
