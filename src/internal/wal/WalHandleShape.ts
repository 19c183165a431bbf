/**
 * The methods of an open WAL (`WalHandle`'s service): what a caller can do with it, and what
 * each method promises. Its own module so that the handle's implementation and the service can
 * both name it without importing each other.
 */
import type { Effect, Scope, Stream } from "effect"
import type { AppendOutcome } from "../../AppendOutcome.ts"
import type { ReplayedEvent, SignalEvent } from "../../SignalEvent.ts"
import type { CheckpointError, ClosedError, InvalidEventError, IoError } from "../../WalError.ts"
import type { ReadError } from "../reader/logReader.ts"
import type { RecoveryReport } from "../recovery/RecoveryReport.ts"
import type { ReplayedEvents } from "../recovery/ReplayedEvents.ts"
import type { SegmentInfo } from "../segment/SegmentInfo.ts"
import type { RetentionHold } from "./retentionHolds.ts"

/**
 * The methods of an open WAL. Every method checks its arguments as plain JavaScript might pass
 * them: a bad argument is a typed error (`InvalidEventError`, `CheckpointError`), never a thrown
 * exception or a defect.
 *
 * @category models
 */
export interface WalHandleShape {
  /**
   * Appends one event; succeeds with its sequence number once durable, or `0n` for a duplicate.
   *
   * The event is captured when `append` is called, not when the effect runs: its four fields are
   * read exactly once each (a getter is called once, a Proxy trapped once), validated, and copied
   * into an object nothing outside the WAL can reach. Mutating or reusing the object afterwards
   * changes nothing; running the returned effect twice appends the same captured event twice.
   * Other properties of the object are ignored, and a class instance or frozen object is read
   * like any other. A field that cannot be read (its getter throws) is an `InvalidEventError`
   * naming it.
   */
  readonly append: (event: SignalEvent) => Effect.Effect<bigint, InvalidEventError | ClosedError | IoError>
  /**
   * Appends many events; succeeds with their sequence numbers (`0n` for duplicates) once all are
   * durable. Every event is captured (as by `append`) and validated when `appendAll` is called,
   * before any is queued; the array or iterable is walked once, so the caller may reuse it at
   * once. A bad event fails the call with `InvalidEventError` on `events[i].field`; a value that
   * is not iterable (`null`, a number, a single event) or whose iterator throws fails on
   * `events`. An endless iterable never completes. The call is not atomic: a failure part-way
   * through writing may leave its earlier events durable.
   */
  readonly appendAll: (
    events: Iterable<SignalEvent>
  ) => Effect.Effect<ReadonlyArray<bigint>, InvalidEventError | ClosedError | IoError>
  /**
   * `append`, with the answer as a type: `Written { seq }` once durable, or `Duplicate` when an
   * identical event is inside the dedup window and nothing was written. Costs what `append` does.
   */
  readonly appendOutcome: (
    event: SignalEvent
  ) => Effect.Effect<AppendOutcome, InvalidEventError | ClosedError | IoError>
  /** `appendAll`, with each answer as an `AppendOutcome`, in the order of `events`. */
  readonly appendAllOutcomes: (
    events: Iterable<SignalEvent>
  ) => Effect.Effect<ReadonlyArray<AppendOutcome>, InvalidEventError | ClosedError | IoError>
  /**
   * Records that everything up to `seq` is materialized; replay after reopen starts after it.
   * A `seq` that is not a u64 bigint fails with `CheckpointError` "InvalidSequence" showing it.
   */
  readonly checkpoint: (seq: bigint) => Effect.Effect<void, CheckpointError | ClosedError | IoError>
  /**
   * Deletes every segment whose last sequence number is below `seq`; succeeds with the count.
   * A `seq` that is not a u64 bigint fails with `CheckpointError` "InvalidSequence".
   */
  readonly truncateBefore: (seq: bigint) => Effect.Effect<number, CheckpointError | ClosedError | IoError>
  /** Drains and syncs every queued append, closes the files, releases the lock. Idempotent. */
  readonly shutdown: Effect.Effect<void>
  readonly listSegments: Effect.Effect<ReadonlyArray<SegmentInfo>>
  /**
   * The durable events from `fromSeq` to `toSeq` (inclusive; by default the last durable event at
   * the time of the call), read from disk a segment at a time. If `fromSeq` was truncated away,
   * the stream starts at the first event still kept. Either bound not a u64 bigint: the stream
   * fails with `CheckpointError` "InvalidSequence".
   */
  readonly read: (
    fromSeq: bigint,
    toSeq?: bigint
  ) => Stream.Stream<ReplayedEvent, ReadError | CheckpointError>
  /** `read(fromSeq)`, then every event as its batch becomes durable; ends when the WAL shuts down. */
  readonly tail: (fromSeq: bigint) => Stream.Stream<ReplayedEvent, ReadError | CheckpointError>
  /** The sequence number the next written event will get. */
  readonly nextSeq: Effect.Effect<bigint>
  /** The events replayed at open: every event with `seq > checkpoint`. */
  readonly replayed: ReplayedEvents
  readonly recovery: RecoveryReport
  readonly dir: string
  /**
   * This directory's identity: 32 lowercase hex digits (128 random bits), written durably to
   * `wal-id` at the first open and the same on every later one; two directories never share one.
   * Copies of the log elsewhere (JetStream) are keyed by it.
   */
  readonly walId: string
  /**
   * Keeps events from `fromSeq` on safe from `truncateBefore` while the scope is open: a
   * truncation deletes no segment holding an event at or after the lowest open hold. The hold
   * moves forward with `advanceTo` as the copy elsewhere is acknowledged. A `fromSeq` that is not
   * a u64 bigint fails with `CheckpointError` "InvalidSequence".
   */
  readonly holdRetention: (
    fromSeq: bigint
  ) => Effect.Effect<RetentionHold, CheckpointError | ClosedError, Scope.Scope>
}
