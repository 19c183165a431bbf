/**
 * The typed failures of tidal-wal (README "Use").
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

/**
 * A file-system call failed. `code` is the platform's errno name (`"ENOSPC"`, `"EIO"`, …) when the
 * cause carries one, and the message leads with it: a Node `PlatformError` for a full disk says
 * only "Unknown: FileSystem.writeAll (21)", the errno sits on the Node error in its `cause`.
 *
 * @category errors
 */
export class IoError extends Data.TaggedError("IoError")<{
  readonly operation: IoOperation
  readonly path: string
  readonly cause: unknown
}> {
  readonly [WalErrorTypeId] = WalErrorTypeId
  /** The errno name found in the cause chain, e.g. `"ENOSPC"`; `undefined` when there is none. */
  get code(): string | undefined {
    return errnoCode(this.cause)
  }
  override get message(): string {
    const code = this.code
    const errno = code === undefined ? "" : `${code}${suffix(ERRNO_MEANINGS[code])}: `
    return `I/O failure: ${this.operation} ${this.path}: ${errno}${describeCause(this.cause)}`
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
  /** Damage in the last segment with more intact batches after it than a power cut can leave. */
  | "DamageBeforeIntactBatches"
  /** Damage in the last segment at or below the checkpoint: those events were synced. */
  | "DamageBelowCheckpoint"
  /** A directory, FIFO or other non-regular file where a segment belongs. */
  | "NotARegularFile"
  /** The `wal-id` file exists but does not hold an id: never replaced, or the log would change identity. */
  | "BadWalId"

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

/**
 * A checkpoint rule was broken, or an argument was not a sequence number (`"InvalidSequence"`).
 * For `"InvalidSequence"`, `value` shows what was passed (`5 (a number)`, `-1n`) and
 * `requestedSeq` is that bigint, or `-1n` when the value was not a bigint at all.
 *
 * @category errors
 */
export class CheckpointError extends Data.TaggedError("CheckpointError")<{
  readonly reason: CheckpointReason
  readonly requestedSeq: bigint
  readonly limitSeq: bigint
  readonly value?: string | undefined
}> {
  readonly [WalErrorTypeId] = WalErrorTypeId
  override get message(): string {
    const { requestedSeq, limitSeq } = this
    const messages: Record<CheckpointReason, string> = {
      BeyondDurable: `checkpoint ${requestedSeq} is beyond the last durable sequence number ${limitSeq}`,
      BelowCheckpoint: `checkpoint ${requestedSeq} is below the current checkpoint ${limitSeq}`,
      TruncateBeyondCheckpoint: `truncateBefore(${requestedSeq}) would delete events after checkpoint ${limitSeq - 1n}; the limit is ${limitSeq}`,
      InvalidSequence: `invalid sequence number ${this.value ?? `${requestedSeq}n`}: a sequence number must be a bigint (u64) from 0n to ${limitSeq}n`
    }
    return messages[this.reason]
  }
}

/**
 * Another open holds the directory's lock. `ownerPid` is 0 when the holder did not record itself;
 * `detail`, when present, says who holds it and what to do, and is the message.
 *
 * @category errors
 */
export class LockedError extends Data.TaggedError("LockedError")<{
  readonly dir: string
  readonly ownerPid: number
  readonly detail?: string | undefined
}> {
  readonly [WalErrorTypeId] = WalErrorTypeId
  override get message(): string {
    return this.detail ?? `WAL directory ${this.dir} is locked by live process ${this.ownerPid}`
  }
}

/** Why the WAL no longer accepts writes. */
/**
 * `"SequenceExhausted"`: the append would need a sequence number past 2^64 − 1. The WAL stays
 * open (reads, checkpoints and appends that still fit work), but no sequence number is ever given
 * past the bound.
 */
export type ClosedReason = "ShutDown" | "WriteFailed" | "SequenceExhausted"

/** @category errors */
export class ClosedError extends Data.TaggedError("ClosedError")<{
  readonly dir: string
  readonly reason: ClosedReason
  readonly cause?: IoError | undefined
}> {
  readonly [WalErrorTypeId] = WalErrorTypeId
  override get message(): string {
    const messages: Record<ClosedReason, () => string> = {
      ShutDown: () => `WAL ${this.dir} is shut down`,
      SequenceExhausted: () => `WAL ${this.dir} has no sequence numbers left: the append would pass 2^64 - 1`,
      WriteFailed: () =>
        `WAL ${this.dir} is closed for writing after a failed write: ${this.cause?.message ?? "unknown"}`
    }
    return messages[this.reason]()
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

/** What the errno names the WAL meets most often mean, so a message says "disk full" outright. */
const ERRNO_MEANINGS: Readonly<Record<string, string>> = {
  ENOSPC: "no space left on device",
  EIO: "input/output error",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  EDQUOT: "disk quota exceeded",
  EMFILE: "too many open files",
  ENAMETOOLONG: "file name too long"
}

/** How deep the cause chain is searched: PlatformError → SystemError → Node error is three. */
const MAX_CAUSE_DEPTH = 6

/**
 * The first errno name (`E` and capitals, as Node spells them) on the cause chain. A Node
 * `PlatformError` keeps it on `cause.code` (and `reason.cause.code`); a platform error built by
 * hand may carry it only in its description, so that is read too.
 */
const errnoCode = (cause: unknown): string | undefined => {
  try {
    let current: unknown = cause
    for (let depth = 0; depth < MAX_CAUSE_DEPTH && typeof current === "object" && current !== null; depth++) {
      const found = codeOf(current)
      if (found !== undefined) return found
      const reason = Predicate.hasProperty(current, "reason") ? current.reason : undefined
      const reasonCode = typeof reason === "object" && reason !== null ? codeOf(reason) : undefined
      if (reasonCode !== undefined) return reasonCode
      current = Predicate.hasProperty(current, "cause") ? current.cause : undefined
    }
  } catch {
    // A hostile cause (a throwing getter): the message still renders, without the code.
  }
  return undefined
}

const ERRNO_PATTERN = /^E[A-Z0-9]{2,}$/
/** Node's own wording, "ENOSPC: no space left on device, write", at the start of a description. */
const ERRNO_IN_TEXT = /^(E[A-Z0-9]{2,}):/

const codeOf = (value: object): string | undefined => {
  const code = Predicate.hasProperty(value, "code") ? value.code : undefined
  if (typeof code === "string" && ERRNO_PATTERN.test(code)) return code
  const description = Predicate.hasProperty(value, "description") ? value.description : undefined
  const match = typeof description === "string" ? ERRNO_IN_TEXT.exec(description) : null
  return match?.[1]
}

const describeCause = (cause: unknown): string => {
  try {
    if (Predicate.hasProperty(cause, "message") && typeof cause.message === "string") return cause.message
    return String(cause)
  } catch {
    return "(the cause could not be rendered)"
  }
}
