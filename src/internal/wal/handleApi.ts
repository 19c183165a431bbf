/**
 * The methods of an open WAL's handle: validation at the boundary, then the queue to the writer.
 *
 * Appends are captured and validated before anything is queued; once the WAL is shutting down or
 * has failed, every method fails at once with `ClosedError`. Commands go through the same queue
 * as appends, so they run on the writer fiber in order with the writes before them.
 */
import {
  Context,
  Deferred,
  Effect,
  type Fiber,
  type FileSystem,
  type Path,
  Queue,
  Stream,
  Tracer
} from "effect"
import { outcomeOfSeq } from "../../AppendOutcome.ts"
import { captureSignalEvent, type SignalEvent } from "../../SignalEvent.ts"
import type { ResolvedWalConfig } from "../../WalConfig.ts"
import { type CheckpointError, type ClosedError, InvalidEventError, type IoError } from "../../WalError.ts"
import { EVENT_RECORD_BYTES } from "../format/layout.ts"
import type { CheckpointsShape } from "../layers/Checkpoints.ts"
import type { WalLifecycle } from "../layers/Lifecycle.ts"
import type { RecoveredLogShape } from "../layers/RecoveredLog.ts"
import type { WriterShape } from "../layers/Writer.ts"
import { liveTail } from "../reader/liveTail.ts"
import { readLog } from "../reader/logReader.ts"
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
import { type CapturedEvents, captureEvents } from "./captureEvents.ts"
import type { RetentionHolds } from "./retentionHolds.ts"
import type { WalHandleShape } from "./WalHandleShape.ts"

export interface HandleParts {
  readonly fs: FileSystem.FileSystem
  readonly path: Path.Path
  readonly dir: string
  readonly walId: string
  readonly config: ResolvedWalConfig
  readonly lifecycle: WalLifecycle
  readonly writer: WriterShape
  readonly appender: Pick<SegmentAppender, "segments" | "dropSegments">
  readonly checkpoints: CheckpointsShape
  readonly retention: RetentionHolds
  readonly recovered: RecoveredLogShape
  readonly shutdown: Effect.Effect<void>
  /**
   * Whether appends read their caller's span for the batch span's links: only when a tracer
   * that exports spans was in place at open (reading it costs a primitive per append).
   */
  readonly linkCallerSpans: boolean
}

export const makeHandle = (parts: HandleParts): WalHandleShape => {
  const { lifecycle, dir } = parts
  return {
    dir,
    walId: parts.walId,
    replayed: parts.recovered.replayed,
    recovery: parts.recovered.report,
    ...appendMethods(parts),
    ...commandMethods(parts),
    holdRetention: (fromSeq) =>
      Effect.flatMap(checkSequenceNumber(fromSeq), (from) =>
        lifecycle.isOpen ? parts.retention.hold(from) : Effect.fail(lifecycle.closedError())
      ),
    shutdown: parts.shutdown,
    listSegments: Effect.sync(() => parts.appender.segments()),
    nextSeq: Effect.sync(() => lifecycle.nextSeq),
    ...readMethods(parts)
  }
}

// internals

const appendMethods = (
  parts: HandleParts
): Pick<WalHandleShape, "append" | "appendAll" | "appendOutcome" | "appendAllOutcomes"> => {
  const append = makeAppend(parts)
  const appendAll = makeAppendAll(parts)
  return {
    append,
    appendAll,
    appendOutcome: (event) => Effect.map(append(event), outcomeOfSeq),
    appendAllOutcomes: (events) => Effect.map(appendAll(events), (seqs) => seqs.map(outcomeOfSeq))
  }
}

/** Queues `request` and waits on `await_`; a full queue waits for room (backpressure). */
const submitter =
  ({ writer, lifecycle }: HandleParts) =>
  <A, E>(request: WriterRequest, await_: Effect.Effect<A, E>): Effect.Effect<A, E | ClosedError> =>
    // The common case, room in the queue, skips the suspending offer: one Effect less per append.
    Queue.offerUnsafe(writer.queue, request)
      ? await_
      : Effect.flatMap(
          Queue.offer(writer.queue, request),
          (accepted): Effect.Effect<A, E | ClosedError> =>
            accepted ? await_ : Effect.fail(lifecycle.closedError())
        )

const makeAppend = ({ writer, lifecycle, linkCallerSpans }: HandleParts): WalHandleShape["append"] => {
  let appendCalls = 0
  /** Queues and waits in one primitive: the writer resumes the caller directly (no Deferred). */
  const queued = (captured: SignalEvent, callerSpan: Tracer.AnySpan | undefined) =>
    Effect.callback<bigint, InvalidEventError | ClosedError | IoError>((resume) => {
      if (!lifecycle.isOpen) return resume(Effect.fail(lifecycle.closedError()))
      const startMillis = appendCalls++ % LATENCY_SAMPLE_EVERY === 0 ? performance.now() : NOT_TIMED
      const request = appendOne(captured, startMillis, callerSpan)
      request.resume = resume
      if (Queue.offerUnsafe(writer.queue, request)) return
      // The queue is full: wait for room (backpressure), then for the acknowledgement.
      request.resume = undefined
      resume(
        Effect.flatMap(Queue.offer(writer.queue, request), (accepted) =>
          accepted ? awaitCompletion(request) : Effect.fail(lifecycle.closedError())
        )
      )
    })
  return (event) => {
    // Captured now, at the call: the fields are read once and copied, so neither a getter nor
    // the caller reusing its object can change what the writer encodes later.
    const captured = captureSignalEvent(event)
    if (captured instanceof InvalidEventError) return Effect.fail(captured)
    return linkCallerSpans
      ? Effect.withFiber((fiber) => queued(captured, callerSpanOf(fiber)))
      : queued(captured, undefined)
  }
}

/** The caller's current span, if it has one: a lookup, no allocation. */
const callerSpanOf = (fiber: Fiber.Fiber<unknown, unknown>): Tracer.AnySpan | undefined =>
  Context.getOrUndefined(fiber.context, Tracer.ParentSpan)

const makeAppendAll = (parts: HandleParts): WalHandleShape["appendAll"] => {
  const { lifecycle, config } = parts
  const submit = submitter(parts)
  return (events) => {
    // Captured now, like `append`: the caller may reuse its array and its events at once.
    const captured = captureEvents(events)
    if (captured instanceof InvalidEventError) return Effect.fail(captured)
    return Effect.withFiber((fiber): Effect.Effect<ReadonlyArray<bigint>, ClosedError | IoError> => {
      if (!lifecycle.isOpen) return Effect.fail(lifecycle.closedError())
      const callerSpan = parts.linkCallerSpans ? callerSpanOf(fiber) : undefined
      // No events: nothing to queue (a request of none would never be settled).
      if (captured.count === 0) return Effect.succeed([])
      if (captured.count <= config.batchMaxEvents) {
        // The common call, one chunk: its request's seqs are the answer.
        const request = appendMany(captured, callerSpan)
        return submit(request, awaitCompletion(request))
      }
      // Chunks of at most batchMaxEvents: the queue's bound stays meaningful for large calls.
      const requests: Array<AppendMany> = []
      for (let start = 0; start < captured.count; start += config.batchMaxEvents) {
        requests.push(appendMany(chunkOf(captured, start, config.batchMaxEvents), callerSpan))
      }
      return Effect.forEach(requests, (request) => submit(request, Effect.void), { discard: true }).pipe(
        Effect.andThen(Effect.forEach(requests, (request) => awaitCompletion(request))),
        Effect.map((seqs) => seqs.flat())
      )
    })
  }
}

/** Events `start .. start + maxEvents` of `events` (a view of its records, no copy). */
const chunkOf = (events: CapturedEvents, start: number, maxEvents: number): CapturedEvents => {
  const count = Math.min(maxEvents, events.count - start)
  return {
    records: events.records.subarray(start * EVENT_RECORD_BYTES, (start + count) * EVENT_RECORD_BYTES),
    count
  }
}

const commandMethods = (parts: HandleParts): Pick<WalHandleShape, "checkpoint" | "truncateBefore"> => {
  const { lifecycle, checkpoints } = parts
  const submit = submitter(parts)
  const context = {
    fs: parts.fs,
    dir: parts.dir,
    lastDurableSeq: () => lifecycle.lastDurableSeq,
    checkpoint: checkpoints.current,
    writeCheckpoint: checkpoints.write,
    appender: parts.appender,
    retentionFloor: parts.retention.floor
  }
  const runCommand = <A>(body: Effect.Effect<A, CheckpointError | IoError>) =>
    Effect.suspend(() => {
      if (!lifecycle.isOpen) return Effect.fail(lifecycle.closedError())
      const { command, done } = makeCommand(body)
      return submit(command, Deferred.await(done))
    })
  return {
    checkpoint: (seq) =>
      Effect.flatMap(checkSequenceNumber(seq), (s) => runCommand(checkpointBody(context, s))),
    truncateBefore: (seq) =>
      Effect.flatMap(checkSequenceNumber(seq), (s) => runCommand(truncateBody(context, s)))
  }
}

const readMethods = (parts: HandleParts): Pick<WalHandleShape, "read" | "tail"> => {
  const { fs, path, dir, lifecycle, writer } = parts
  const read = (fromSeq: bigint, toSeq: bigint | undefined) => readLog(fs, path, dir, { fromSeq, toSeq })
  return {
    read: (fromSeq, toSeq) =>
      Stream.unwrap(
        Effect.map(
          Effect.all([
            checkSequenceNumber(fromSeq),
            toSeq === undefined ? Effect.succeed(undefined) : checkSequenceNumber(toSeq)
          ]),
          ([from, to]) => {
            const durable = lifecycle.lastDurableSeq
            return read(from, to === undefined || to > durable ? durable : to)
          }
        )
      ),
    tail: (fromSeq) =>
      Stream.unwrap(
        Effect.map(checkSequenceNumber(fromSeq), (from) =>
          liveTail(
            {
              published: writer.published,
              lastDurableSeq: () => lifecycle.lastDurableSeq,
              read,
              subscribed: writer.subscribed
            },
            from
          )
        )
      )
  }
}
