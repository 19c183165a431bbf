/**
 * The one lifecycle state of an open WAL, and the sequence numbers it hands out.
 *
 * Open → Failed(IoError) when a write or sync fails; Open or Failed → ShuttingDown when
 * `shutdown` starts; ShuttingDown → Closed when it is done. Only Open accepts writes. Whatever a
 * caller sees as "closed" — the reason and the failure behind it — is read from this one place.
 *
 * Sequence numbers are reserved and marked durable here, with their invariants asserted: a
 * number handed out twice, or past u64, or a durability mark that moves backwards, would corrupt
 * the log or lie to a caller, so each is a defect, never an error a caller could handle
 * (TigerBeetle's rule: a broken invariant stops the program).
 */
import { Context, Effect, Layer } from "effect"
import { ClosedError, type IoError } from "../../WalError.ts"
import { U64_MAX } from "../format/layout.ts"
import { RecoveredLog } from "./RecoveredLog.ts"
import { WalDirectory } from "./WalDirectory.ts"

export type LifecyclePhase =
  | { readonly _tag: "Open" }
  | { readonly _tag: "Failed"; readonly error: IoError }
  | { readonly _tag: "ShuttingDown"; readonly failure: IoError | undefined }
  | { readonly _tag: "Closed"; readonly failure: IoError | undefined }

export class WalLifecycle {
  #phase: LifecyclePhase = { _tag: "Open" }
  #nextSeq: bigint
  #lastDurableSeq: bigint
  readonly dir: string

  /** `recoveredSeq`: the last sequence number the recovered log holds or its checkpoint covers. */
  constructor(dir: string, recoveredSeq: bigint) {
    this.dir = dir
    this.#lastDurableSeq = recoveredSeq
    this.#nextSeq = recoveredSeq + 1n
  }

  get phase(): LifecyclePhase {
    return this.#phase
  }

  /** The sequence number the next staged event gets. */
  get nextSeq(): bigint {
    return this.#nextSeq
  }

  /** The last sequence number known durable (the checkpoint if nothing was written since). */
  get lastDurableSeq(): bigint {
    return this.#lastDurableSeq
  }

  get isOpen(): boolean {
    return this.#phase._tag === "Open"
  }

  /** The failure that closed the WAL for writing, if one did. */
  get failure(): IoError | undefined {
    const phase = this.#phase
    return phase._tag === "Open" ? undefined : phase._tag === "Failed" ? phase.error : phase.failure
  }

  /** The error for a request the WAL no longer accepts. */
  closedError(): ClosedError {
    const failure = this.failure
    return failure === undefined
      ? new ClosedError({ dir: this.dir, reason: "ShutDown" })
      : new ClosedError({ dir: this.dir, reason: "WriteFailed", cause: failure })
  }

  sequenceExhausted(): ClosedError {
    return new ClosedError({ dir: this.dir, reason: "SequenceExhausted" })
  }

  /** Open → Failed; later failures (and failures after shutdown began) keep the first. Returns whether it was the first. */
  fail(error: IoError): boolean {
    const phase = this.#phase
    if (phase._tag === "Open") {
      this.#phase = { _tag: "Failed", error }
      return true
    }
    if (phase._tag === "ShuttingDown" && phase.failure === undefined) {
      this.#phase = { _tag: "ShuttingDown", failure: error }
      return true
    }
    return false
  }

  /** Open or Failed → ShuttingDown. Returns false if shutdown had already begun. */
  beginShutdown(): boolean {
    const phase = this.#phase
    if (phase._tag === "ShuttingDown" || phase._tag === "Closed") return false
    this.#phase = { _tag: "ShuttingDown", failure: this.failure }
    return true
  }

  /** ShuttingDown → Closed. */
  closed(): void {
    const phase = this.#phase
    assert(phase._tag === "ShuttingDown", `closed() in phase ${phase._tag}`)
    this.#phase = { _tag: "Closed", failure: phase._tag === "ShuttingDown" ? phase.failure : undefined }
  }

  /** How many sequence numbers are left before 2^64 − 1 is passed. */
  seqsRemaining(): bigint {
    return U64_MAX + 1n - this.#nextSeq
  }

  /** Reserves `count` consecutive sequence numbers and returns the first. */
  reserveSeqs(count: number): bigint {
    assert(count > 0, `reserving ${count} sequence numbers`)
    const firstSeq = this.#nextSeq
    // A sequence number past u64 would be written as another, smaller one: never give it.
    assert(
      firstSeq + BigInt(count) - 1n <= U64_MAX,
      `sequence number ${firstSeq + BigInt(count) - 1n} passes u64`
    )
    this.#nextSeq = firstSeq + BigInt(count)
    return firstSeq
  }

  /** Everything up to `lastSeq` is synced. Marks only move forward, and never past what was reserved. */
  markDurable(lastSeq: bigint): void {
    assert(lastSeq > this.#lastDurableSeq, `durable mark ${lastSeq} does not pass ${this.#lastDurableSeq}`)
    assert(lastSeq < this.#nextSeq, `durable mark ${lastSeq} passes the reserved ${this.#nextSeq - 1n}`)
    this.#lastDurableSeq = lastSeq
  }
}

/** @internal */
export class Lifecycle extends Context.Service<Lifecycle, WalLifecycle>()("tidal-wal/Lifecycle") {
  static readonly layer = Layer.effect(
    Lifecycle,
    Effect.gen(function* () {
      const { dir } = yield* WalDirectory
      const recovered = yield* RecoveredLog
      const start = recovered.lastSeq >= recovered.checkpoint ? recovered.lastSeq : recovered.checkpoint
      return new WalLifecycle(dir, start)
    })
  )
}

/** A broken invariant is a defect: thrown, so it stops the fiber instead of passing as a result. */
export const assert = (condition: boolean, message: string): void => {
  if (!condition) throw new Error(`tidal-wal invariant: ${message}`)
}
