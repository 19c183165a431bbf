/**
 * The commands that run on the writer fiber, serialised with writes (docs/FORMAT.md "Checkpoint and
 * truncation"): `checkpoint(seq)` and `truncateBefore(seq)`.
 *
 * Running them on the writer means a truncation never races a rotation, and a checkpoint is
 * checked against the sequence numbers actually durable at that point in the queue.
 */
import { Deferred, Effect, Exit, type FileSystem } from "effect"
import { CheckpointError, type IoError } from "../../WalError.ts"
import { segmentsToDelete } from "../checkpoint/truncationPlan.ts"
import { U64_MAX } from "../format/layout.ts"
import { io, syncDirectory } from "../fs/durable.ts"
import { formatValue } from "../schemaIssue.ts"
import type { SegmentAppender } from "../segment/SegmentAppender.ts"
import type { Command, QueuedFailure } from "./requests.ts"

export interface CommandContext {
  readonly fs: FileSystem.FileSystem
  readonly dir: string
  /** The last sequence number known durable. */
  readonly lastDurableSeq: () => bigint
  readonly checkpoint: () => bigint
  /** Makes `seq` the checkpoint, durably. */
  readonly writeCheckpoint: (seq: bigint) => Effect.Effect<void, IoError>
  readonly appender: Pick<SegmentAppender, "segments" | "dropSegments">
  /** The lowest sequence number a retention hold keeps, if any hold is open. */
  readonly retentionFloor: () => bigint | undefined
}

/** A command whose caller waits on `done`. */
export const makeCommand = <A, E>(
  body: Effect.Effect<A, E>
): { readonly command: Command; readonly done: Deferred.Deferred<A, E | QueuedFailure> } => {
  const done = Deferred.makeUnsafe<A, E | QueuedFailure>()
  const command: Command = {
    _tag: "Command",
    run: Effect.exit(body).pipe(Effect.flatMap((exit) => Effect.sync(() => Deferred.doneUnsafe(done, exit)))),
    reject: (error) => Deferred.doneUnsafe(done, Exit.fail(error))
  }
  return { command, done }
}

/**
 * Fails unless `seq` is a u64 bigint (callers from plain JavaScript can pass anything). The
 * error shows the value as given — `5 (a number)`, `-1n` — so the message says what was
 * wrong, not a stand-in.
 */
export const checkSequenceNumber = (seq: unknown): Effect.Effect<bigint, CheckpointError> =>
  typeof seq === "bigint" && seq >= 0n && seq <= U64_MAX
    ? Effect.succeed(seq)
    : Effect.fail(
        new CheckpointError({
          reason: "InvalidSequence",
          requestedSeq: typeof seq === "bigint" ? seq : -1n,
          limitSeq: U64_MAX,
          value: showWithType(seq)
        })
      )

/** `5 (a number)`, `"5" (a string)`, `-1n`: the type is the usual mistake, so it is spelled out. */
const showWithType = (value: unknown): string => {
  if (typeof value === "bigint" || value === null || value === undefined) return formatValue(value)
  const type = typeof value
  return `${formatValue(value)} (${/^[aeiou]/.test(type) ? "an" : "a"} ${type})`
}

export const checkpointBody = (
  context: CommandContext,
  seq: bigint
): Effect.Effect<void, CheckpointError | IoError> =>
  Effect.gen(function* () {
    const lastDurableSeq = context.lastDurableSeq()
    if (seq > lastDurableSeq) {
      return yield* new CheckpointError({
        reason: "BeyondDurable",
        requestedSeq: seq,
        limitSeq: lastDurableSeq
      })
    }
    const current = context.checkpoint()
    if (seq < current) {
      return yield* new CheckpointError({ reason: "BelowCheckpoint", requestedSeq: seq, limitSeq: current })
    }
    yield* context.writeCheckpoint(seq)
  })

export const truncateBody = (
  context: CommandContext,
  seq: bigint
): Effect.Effect<number, CheckpointError | IoError> =>
  Effect.gen(function* () {
    const limitSeq = context.checkpoint() + 1n
    if (seq > limitSeq) {
      return yield* new CheckpointError({ reason: "TruncateBeyondCheckpoint", requestedSeq: seq, limitSeq })
    }
    // An open retention hold lowers the bound: its events exist nowhere else yet.
    const floor = context.retentionFloor()
    const keepFrom = floor !== undefined && floor < seq ? floor : seq
    const doomed = segmentsToDelete(context.appender.segments(), keepFrom)
    const deleted = new Set<string>()
    yield* Effect.forEach(doomed, (segment) =>
      io(
        "remove",
        segment.path
      )(context.fs.remove(segment.path)).pipe(Effect.tap(() => Effect.sync(() => deleted.add(segment.name))))
    ).pipe(
      Effect.ensuring(Effect.sync(() => context.appender.dropSegments(deleted))),
      Effect.andThen(syncDirectory(context.fs, context.dir))
    )
    return deleted.size
  })
