/**
 * The methods of an open WAL's handle: validation at the boundary, then the queue to the writer.
 *
 * Appends are validated before anything is queued; once the WAL is shutting down or has failed,
 * every method fails at once with `ClosedError`. Commands go through the same queue as appends,
 * so they run on the writer fiber in order with the writes before them.
 */
import { type Cause, Deferred, Effect, type FileSystem, type Path, type PubSub, Queue, Stream } from "effect"
import { captureSignalEvent, type SignalEvent } from "../../SignalEvent.ts"
import type { ResolvedWalConfig } from "../../WalConfig.ts"
import { type CheckpointError, type ClosedError, InvalidEventError, type IoError } from "../../WalError.ts"
import type { WalHandleShape } from "../../WalHandle.ts"
import { liveTail, type PublishedBatch } from "../reader/liveTail.ts"
import { readLog } from "../reader/logReader.ts"
import type { RecoveryReport } from "../recovery/RecoveryReport.ts"
import type { ReplayedEvents } from "../recovery/ReplayedEvents.ts"
import { describeThrown, formatValue } from "../schemaIssue.ts"
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
import type { RetentionHolds } from "./retentionHolds.ts"

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
  readonly walId: string
  readonly retention: RetentionHolds
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

  const commandContext = { fs, path, dir, state, appender, retentionFloor: parts.retention.floor }
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
    walId: parts.walId,
    holdRetention: (fromSeq) =>
      Effect.flatMap(checkSequenceNumber(fromSeq), (from) =>
        isClosed() ? Effect.fail(closedError()) : parts.retention.hold(from)
      ),
    replayed: parts.replayed,
    recovery: parts.recovery,
    append: (event) => {
      // Captured now, at the call: the fields are read once and copied, so neither a getter nor
      // the caller reusing its object can change what the writer encodes later.
      const captured = captureSignalEvent(event)
      if (captured instanceof InvalidEventError) return Effect.fail(captured)
      // One primitive per call on the hot path: queueing and waiting both happen when the
      // callback registers, and the writer resumes it directly (no suspend, no Deferred).
      return Effect.callback<bigint, InvalidEventError | ClosedError | IoError>((resume) => {
        if (isClosed()) return resume(Effect.fail(closedError()))
        const request = appendOne(
          captured,
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
      })
    },
    appendAll: (events) => {
      // Captured now, like `append`: the caller may reuse its array and its events at once.
      const captured = captureEvents(events)
      if (captured instanceof InvalidEventError) return Effect.fail(captured)
      return Effect.suspend((): Effect.Effect<ReadonlyArray<bigint>, ClosedError | IoError> => {
        if (isClosed()) return Effect.fail(closedError())
        // Chunks of at most batchMaxEvents: the queue's bound stays meaningful for large calls.
        const requests: Array<AppendMany> = []
        for (let start = 0; start < captured.length; start += config.batchMaxEvents) {
          const chunk =
            captured.length <= config.batchMaxEvents
              ? captured
              : captured.slice(start, start + config.batchMaxEvents)
          requests.push(appendMany(chunk))
        }
        return Effect.forEach(requests, (request) => submit(request, Effect.void), { discard: true }).pipe(
          Effect.andThen(Effect.forEach(requests, (request) => awaitCompletion(request))),
          Effect.map((parts) => parts.flat())
        )
      })
    },
    checkpoint: (seq) =>
      Effect.flatMap(checkSequenceNumber(seq), (s) => runCommand(checkpointBody(commandContext, s))),
    truncateBefore: (seq) =>
      Effect.flatMap(checkSequenceNumber(seq), (s) => runCommand(truncateBody(commandContext, s))),
    shutdown: parts.shutdown,
    listSegments: Effect.sync(() => appender.segments()),
    nextSeq: Effect.sync(() => state.nextSeq),
    read: (fromSeq, toSeq) =>
      Stream.unwrap(
        Effect.map(
          Effect.all([
            checkSequenceNumber(fromSeq),
            toSeq === undefined ? Effect.succeed(undefined) : checkSequenceNumber(toSeq)
          ]),
          ([from, to]) => {
            const durable = state.lastDurableSeq
            return read(from, to === undefined || to > durable ? durable : to)
          }
        )
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

// internals

/**
 * Copies every event of `events` (see `captureSignalEvent`) into a fresh array, or fails with
 * the `InvalidEventError` naming the first bad one (`events[i].field`). Whatever `events` is —
 * null, a number, a single event, an iterator that throws — the result is an error, never a
 * throw: a non-iterable is reported on the field "events".
 */
const captureEvents = (events: unknown): Array<SignalEvent> | InvalidEventError => {
  const iterator = iteratorOf(events)
  if (iterator instanceof InvalidEventError) return iterator
  const captured: Array<SignalEvent> = []
  let invalid: InvalidEventError | undefined
  try {
    for (let step = nextStep(iterator); step.done !== true; step = nextStep(iterator)) {
      const event = captureSignalEvent(step.value)
      if (event instanceof InvalidEventError) {
        invalid = inEvents(captured.length, event)
        iterator.return?.()
        return invalid
      }
      captured.push(event)
    }
  } catch (cause) {
    // A throwing `return` after a bad event must not hide the bad event.
    return (
      invalid ??
      eventsError(
        formatValue(events),
        `iterating threw after ${captured.length} events: ${describeThrown(cause)}`
      )
    )
  }
  return captured
}

const iteratorOf = (events: unknown): Iterator<unknown> | InvalidEventError => {
  const shown = formatValue(events)
  if (events === null || events === undefined) return eventsError(shown, "expected an iterable of events")
  try {
    const iterate = (events as { readonly [Symbol.iterator]?: unknown })[Symbol.iterator]
    if (typeof iterate !== "function") {
      return eventsError(
        shown,
        "expected an iterable of events (an array, a Set, a generator…), not a single value"
      )
    }
    const iterator: unknown = iterate.call(events)
    if (typeof iterator !== "object" || iterator === null)
      return eventsError(shown, "its iterator is not an object")
    return iterator as Iterator<unknown>
  } catch (cause) {
    return eventsError(shown, `starting to iterate threw: ${describeThrown(cause)}`)
  }
}

/** The iterator's next result; throws, as `for…of` would, when it is not an object. */
const nextStep = (iterator: Iterator<unknown>): IteratorResult<unknown> => {
  const step: unknown = iterator.next()
  if (typeof step !== "object" || step === null)
    throw new TypeError(`iterator result ${formatValue(step)} is not an object`)
  return step as IteratorResult<unknown>
}

const eventsError = (value: string, detail: string): InvalidEventError =>
  new InvalidEventError({ field: "events", value, detail })

/** Prefixes an event's error with its place in the call: `events[3].weight`, `events[3]`. */
const inEvents = (index: number, error: InvalidEventError): InvalidEventError =>
  new InvalidEventError({
    field: error.field === "(root)" ? `events[${index}]` : `events[${index}].${error.field}`,
    value: error.value,
    detail: error.detail
  })
