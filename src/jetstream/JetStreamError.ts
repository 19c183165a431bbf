/**
 * The typed failure of the JetStream shipper and source (docs/JETSTREAM.md "Failures").
 *
 * One tagged class with a `reason` a caller branches on, in the style of src/WalError.ts: the
 * message is computed from the fields, so it always names the stream and subject involved. Some
 * reasons are transient — the shipper retries them and shows them in its status — and the others
 * mean the copy in JetStream cannot be continued without an operator: `isTransient` tells which.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * Why talking to JetStream failed.
 *
 * - `Unreachable`: no server of `servers` accepted a connection at start.
 * - `ConnectionLost`: the connection closed for good (the client stopped reconnecting).
 * - `Unavailable`: a request timed out or found no responder (a server down, a leader election).
 * - `Rejected`: the server answered a request with an error (e.g. the stream is full).
 * - `StreamNotFound`: the stream does not exist; the shipper never creates one (see `ensureStream`).
 * - `StreamMisconfigured`: the stream could lose or refuse the copy (`detail` says which setting).
 * - `ForeignMessage`: a message on the subject was not shipped by this WAL (another `walId`).
 * - `CorruptMessage`: a message on the subject is not a valid shipped batch (checksum, layout).
 * - `Gap`: events are missing: in the copy (source), or the WAL truncated events never shipped.
 * - `OutOfOrder`: a message repeats or goes back in WAL sequence numbers.
 * - `StreamAheadOfWal`: the copy holds events the WAL does not (a WAL directory restored or replaced).
 * - `WalReadFailed`: reading the WAL's own events failed (`cause` is the WAL's error).
 * - `TailStalled`: the WAL's tail stopped delivering durable events; the shipper reads them anew.
 * - `Stopped`: the shipper stopped (its scope closed, or the WAL shut down) before shipping that far.
 */
export type JetStreamErrorReason =
  | "Unreachable"
  | "ConnectionLost"
  | "Unavailable"
  | "Rejected"
  | "StreamNotFound"
  | "StreamMisconfigured"
  | "ForeignMessage"
  | "CorruptMessage"
  | "Gap"
  | "OutOfOrder"
  | "StreamAheadOfWal"
  | "WalReadFailed"
  | "TailStalled"
  | "Stopped"

/** Reasons the shipper retries (with backoff) instead of stopping. */
const TRANSIENT_REASONS: ReadonlySet<JetStreamErrorReason> = new Set([
  "ConnectionLost",
  "Unavailable",
  "Rejected",
  "StreamNotFound",
  "TailStalled"
])

/** @category errors */
export class JetStreamError extends Data.TaggedError("JetStreamError")<{
  readonly reason: JetStreamErrorReason
  readonly stream: string
  readonly subject: string
  readonly detail: string
  readonly cause?: unknown
}> {
  /** Whether the shipper retries this failure (a server may come back) rather than stop. */
  get isTransient(): boolean {
    return TRANSIENT_REASONS.has(this.reason)
  }
  override get message(): string {
    const where =
      this.subject === "" ? `stream ${this.stream}` : `stream ${this.stream}, subject ${this.subject}`
    return `JetStream ${this.reason} (${where}): ${this.detail}`
  }
}
