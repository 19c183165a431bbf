/**
 * The typed failures of tidal-wal (SPEC §4 "WalError").
 *
 * Eight tagged classes, one per kind of failure a caller may want to branch on. Each computes its
 * `message` from structured fields, so the message always names the file, offset, field or value
 * involved, while code branches on the fields instead of parsing text.
 *
 * @since 0.1.0
 */
import { Data, Predicate } from "effect"

const WalErrorTypeId: unique symbol = Symbol.for("tidal-wal/WalError")

/** @category errors */
export class InvalidEventError extends Data.TaggedError("InvalidEventError")<{
  readonly field: string
  readonly value: string
  readonly detail: string
}> {
  readonly [WalErrorTypeId] = WalErrorTypeId
  override get message(): string {
    return `invalid event: field "${this.field}" = ${this.value}: ${this.detail}`
  }
}

/** @category errors */
export class InvalidConfigError extends Data.TaggedError("InvalidConfigError")<{
  readonly field: string
  readonly value: string
  readonly detail: string
}> {
  readonly [WalErrorTypeId] = WalErrorTypeId
  override get message(): string {
    return `invalid config: field "${this.field}" = ${this.value}: ${this.detail}`
  }
}

/** The file-system operation that failed. */
export type IoOperation =
  | "open"
  | "read"
  | "write"
  | "sync"
  | "syncDirectory"
  | "rename"
  | "truncate"
  | "remove"
  | "list"
  | "makeDirectory"
  | "copy"
  | "stat"

/** @category errors */
export class IoError extends Data.TaggedError("IoError")<{
  readonly operation: IoOperation
  readonly path: string
  readonly cause: unknown
}> {
  readonly [WalErrorTypeId] = WalErrorTypeId
  override get message(): string {
    return `I/O failure: ${this.operation} ${this.path}: ${describeCause(this.cause)}`
  }
}

/** Why a batch, segment or checkpoint file did not pass recovery's checks. */
export type CorruptionReason =
  | "BadMagic"
  | "EmptyBatch"
  | "BadPayloadLength"
  | "BatchPastEndOfFile"
  | "ChecksumMismatch"
  | "SequenceGap"
  | "SegmentNameMismatch"
  | "BadCheckpoint"

/** @category errors */
export class CorruptionError extends Data.TaggedError("CorruptionError")<{
  readonly file: string
  readonly offsetBytes: number
  readonly reason: CorruptionReason
  readonly detail?: string | undefined
}> {
  readonly [WalErrorTypeId] = WalErrorTypeId
  override get message(): string {
    return `corruption in ${this.file} at byte ${this.offsetBytes}: ${this.reason}${suffix(this.detail)}`
  }
}

/** @category errors */
export class UnsupportedVersionError extends Data.TaggedError("UnsupportedVersionError")<{
  readonly file: string
  readonly offsetBytes: number
  readonly version: number
  readonly flags: number
}> {
  readonly [WalErrorTypeId] = WalErrorTypeId
  override get message(): string {
    return `unsupported batch in ${this.file} at byte ${this.offsetBytes}: version ${this.version}, flags ${this.flags} (this build reads version 1, flags 0)`
  }
}

/** Which checkpoint rule a request broke. */
export type CheckpointReason =
  | "BeyondDurable"
  | "BelowCheckpoint"
  | "TruncateBeyondCheckpoint"
  | "InvalidSequence"

/** @category errors */
export class CheckpointError extends Data.TaggedError("CheckpointError")<{
  readonly reason: CheckpointReason
  readonly requestedSeq: bigint
  readonly limitSeq: bigint
}> {
  readonly [WalErrorTypeId] = WalErrorTypeId
  override get message(): string {
    const { requestedSeq, limitSeq } = this
    const messages: Record<CheckpointReason, string> = {
      BeyondDurable: `checkpoint ${requestedSeq} is beyond the last durable sequence number ${limitSeq}`,
      BelowCheckpoint: `checkpoint ${requestedSeq} is below the current checkpoint ${limitSeq}`,
      TruncateBeyondCheckpoint: `truncateBefore(${requestedSeq}) would delete events after checkpoint ${limitSeq - 1n}; the limit is ${limitSeq}`,
      InvalidSequence: `sequence number ${requestedSeq} is not a u64 bigint`
    }
    return messages[this.reason]
  }
}

/** @category errors */
export class LockedError extends Data.TaggedError("LockedError")<{
  readonly dir: string
  readonly ownerPid: number
}> {
  readonly [WalErrorTypeId] = WalErrorTypeId
  override get message(): string {
    return `WAL directory ${this.dir} is locked by live process ${this.ownerPid}`
  }
}

/** Why the WAL no longer accepts writes. */
export type ClosedReason = "ShutDown" | "WriteFailed"

/** @category errors */
export class ClosedError extends Data.TaggedError("ClosedError")<{
  readonly dir: string
  readonly reason: ClosedReason
  readonly cause?: IoError | undefined
}> {
  readonly [WalErrorTypeId] = WalErrorTypeId
  override get message(): string {
    return this.reason === "ShutDown"
      ? `WAL ${this.dir} is shut down`
      : `WAL ${this.dir} is closed for writing after a failed write: ${this.cause?.message ?? "unknown"}`
  }
}

/** @category errors */
export type WalError =
  | InvalidEventError
  | InvalidConfigError
  | IoError
  | CorruptionError
  | UnsupportedVersionError
  | CheckpointError
  | LockedError
  | ClosedError

/** @category guards */
export const isWalError = (u: unknown): u is WalError => Predicate.hasProperty(u, WalErrorTypeId)

// internals

const suffix = (detail: string | undefined): string => (detail === undefined ? "" : ` (${detail})`)

const describeCause = (cause: unknown): string => {
  if (Predicate.hasProperty(cause, "message") && typeof cause.message === "string") return cause.message
  return String(cause)
}
