/**
 * The methods of an open WAL's handle: validation at the boundary, then the queue to the writer.
 *
 * Appends are validated before anything is queued; once the WAL is shutting down or has failed,
 * every method fails at once with `ClosedError`. Commands go through the same queue as appends,
 * so they run on the writer fiber in order with the writes before them.
 */
import { type Cause, Deferred, Effect, type FileSystem, type Path, type PubSub, Queue, Stream } from "effect"
import { invalidEventError, isSignalEvent } from "../../SignalEvent.ts"
import type { ResolvedWalConfig } from "../../WalConfig.ts"
import { type CheckpointError, type ClosedError, InvalidEventError, type IoError } from "../../WalError.ts"
import type { WalHandleShape } from "../../WalHandle.ts"
import { liveTail, type PublishedBatch } from "../reader/liveTail.ts"
import { readLog } from "../reader/logReader.ts"
import type { RecoveryReport } from "../recovery/RecoveryReport.ts"
import type { ReplayedEvents } from "../recovery/ReplayedEvents.ts"
import type { SegmentAppender } from "../segment/SegmentAppender.ts"
import { checkpointBody, checkSequenceNumber, makeCommand, truncateBody } from "../writer/commands.ts"
import {
  type AppendMany,
  appendMany,
  appendOne,
  awaitCompletion,
  LATENCY_SAMPLE_EVERY,
  NOT_TIMED,
  type WriterRequest
} from "../writer/requests.ts"
import type { WriterState } from "../writer/writerLoop.ts"

export interface HandleParts {
  readonly fs: FileSystem.FileSystem
  readonly path: Path.Path
  readonly dir: string
  readonly config: ResolvedWalConfig
  readonly state: WriterState
  readonly queue: Queue.Queue<WriterRequest, Cause.Done>
  readonly appender: SegmentAppender
  readonly published: PubSub.PubSub<PublishedBatch>
  readonly tails: { subscribers: number }
  readonly closedError: () => ClosedError
  readonly shutdown: Effect.Effect<void>
  readonly replayed: ReplayedEvents
  readonly recovery: RecoveryReport
}

export const makeHandle = (parts: HandleParts): WalHandleShape => {
  const { fs, path, dir, config, state, queue, appender, closedError } = parts
  const isClosed = () => state.shuttingDown || state.failure !== undefined

  const submit = <A, E>(
    request: WriterRequest,
    await_: Effect.Effect<A, E>
  ): Effect.Effect<A, E | ClosedError> =>
    // The common case, room in the queue, skips the suspending offer: one Effect less per append.
    Queue.offerUnsafe(queue, request)
      ? await_
      : Effect.flatMap(
          Queue.offer(queue, request),
          (accepted): Effect.Effect<A, E | ClosedError> => (accepted ? await_ : Effect.fail(closedError()))
        )

  const commandContext = { fs, path, dir, state, appender }
  const runCommand = <A>(body: Effect.Effect<A, CheckpointError | IoError>) =>
    Effect.suspend(() => {
      if (isClosed()) return Effect.fail(closedError())
      const { command, done } = makeCommand(body)
      return submit(command, Deferred.await(done))
    })

  let appendCalls = 0

  const read = (fromSeq: bigint, toSeq: bigint | undefined) => readLog(fs, path, dir, { fromSeq, toSeq })

  return {
    dir,
    replayed: parts.replayed,
    recovery: parts.recovery,
    append: (event) =>
      // One primitive per call on the hot path: validating, queueing and waiting all happen when
      // the callback registers, and the writer resumes it directly (no suspend, no Deferred).
      Effect.callback<bigint, InvalidEventError | ClosedError | IoError>((resume) => {
        if (!isSignalEvent(event)) return resume(Effect.fail(invalidEventError(event)))
        if (isClosed()) return resume(Effect.fail(closedError()))
        const request = appendOne(
          event,
          appendCalls++ % LATENCY_SAMPLE_EVERY === 0 ? performance.now() : NOT_TIMED
        )
        request.resume = resume
        if (Queue.offerUnsafe(queue, request)) return
        // The queue is full: wait for room (backpressure), then for the acknowledgement.
        request.resume = undefined
        resume(
          Effect.flatMap(Queue.offer(queue, request), (accepted) =>
            accepted ? awaitCompletion(request) : Effect.fail(closedError())
          )
        )
      }),
    appendAll: (events) =>
      Effect.suspend((): Effect.Effect<ReadonlyArray<bigint>, InvalidEventError | ClosedError | IoError> => {
        const list = Array.from(events)
        for (let i = 0; i < list.length; i++) {
          if (!isSignalEvent(list[i])) {
            const error = invalidEventError(list[i])
            return Effect.fail(new InvalidEventError({ ...error, field: `events[${i}].${error.field}` }))
          }
        }
        if (isClosed()) return Effect.fail(closedError())
        // Chunks of at most batchMaxEvents: the queue's bound stays meaningful for large calls.
        const requests: Array<AppendMany> = []
        for (let start = 0; start < list.length; start += config.batchMaxEvents) {
          requests.push(appendMany(list.slice(start, start + config.batchMaxEvents)))
        }
        return Effect.forEach(requests, (request) => submit(request, Effect.void), { discard: true }).pipe(
          Effect.andThen(Effect.forEach(requests, (request) => awaitCompletion(request))),
          Effect.map((parts) => parts.flat())
        )
      }),
    checkpoint: (seq) =>
      Effect.flatMap(checkSequenceNumber(seq), (s) => runCommand(checkpointBody(commandContext, s))),
    truncateBefore: (seq) =>
      Effect.flatMap(checkSequenceNumber(seq), (s) => runCommand(truncateBody(commandContext, s))),
    shutdown: parts.shutdown,
    listSegments: Effect.sync(() => appender.segments()),
    nextSeq: Effect.sync(() => state.nextSeq),
    read: (fromSeq, toSeq) =>
      Stream.unwrap(
        Effect.map(checkSequenceNumber(fromSeq), (from) => {
          const durable = state.lastDurableSeq
          return read(from, toSeq === undefined || toSeq > durable ? durable : toSeq)
        })
      ),
    tail: (fromSeq) =>
      Stream.unwrap(
        Effect.map(checkSequenceNumber(fromSeq), (from) =>
          liveTail(
            {
              published: parts.published,
              lastDurableSeq: () => state.lastDurableSeq,
              read,
              subscribed: (delta) => {
                parts.tails.subscribers += delta
              }
            },
            from
          )
        )
      )
  }
}
