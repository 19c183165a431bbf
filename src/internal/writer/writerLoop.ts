/**
 * The single writer fiber (SPEC §3 "Append and group commit"): consumes the request queue, forms
 * groups by the group-commit policy, and writes each group as batches of at most
 * `batchMaxEvents`, running commands in queue order between them.
 *
 * The default policy is the SPEC's, expressed as an Effect `Schedule`: `Stream.aggregateWithin`
 * with a sink that completes at `batchMaxEvents` events (or at a command, which must not wait)
 * and `Schedule.spaced(batchMaxWait)`, whose timer starts at a group's first request — an idle
 * WAL does not wake up. The eager policy takes whatever is waiting as soon as the previous sync
 * is done. After a failed write the writer keeps draining, failing every request with
 * `ClosedError`, so no caller is left waiting.
 */
import { type Cause, Duration, Effect, Pull, type Queue, Schedule, Sink, Stream } from "effect"
import type { GroupCommit } from "../../WalConfig.ts"
import type { ClosedError, IoError } from "../../WalError.ts"
import type { BatchWriter } from "./batchWriter.ts"
import { reject, type WriterRequest } from "./requests.ts"

export interface WriterState {
  /** The sequence number the next staged event gets. */
  nextSeq: bigint
  /** The last sequence number known durable (the checkpoint if nothing was written since). */
  lastDurableSeq: bigint
  checkpoint: bigint
  failure: IoError | undefined
  shuttingDown: boolean
}

export interface WriterLoopOptions {
  readonly queue: Queue.Queue<WriterRequest, Cause.Done>
  readonly batchWriter: BatchWriter
  readonly batchMaxEvents: number
  readonly batchMaxWaitMillis: number
  readonly groupCommit: GroupCommit
  readonly state: WriterState
  readonly closedError: () => ClosedError
  /** Called with the size of every group taken from the queue, before it is written. */
  readonly onGroup?: ((requests: number) => void) | undefined
}

/** Runs until the queue is ended and drained. Never fails: every request is completed. */
export const runWriterLoop = (options: WriterLoopOptions): Effect.Effect<void> => {
  const { queue, batchWriter, batchMaxEvents, state } = options

  const { flush, drain } = batchWriter

  const processGroup = (requests: ReadonlyArray<WriterRequest>): Effect.Effect<void> =>
    Effect.gen(function* () {
      options.onGroup?.(requests.length)
      for (const request of requests) {
        if (state.failure !== undefined) {
          reject(request, options.closedError())
          continue
        }
        switch (request._tag) {
          case "AppendOne":
            batchWriter.add(request, 0, request.event)
            if (batchWriter.size() >= batchMaxEvents) yield* flush
            break
          case "AppendMany":
            for (let i = 0; i < request.events.length && state.failure === undefined; i++) {
              batchWriter.add(request, i, request.events[i] as (typeof request.events)[number])
              if (batchWriter.size() >= batchMaxEvents) yield* flush
            }
            break
          case "Command":
            yield* flush
            yield* drain
            if (state.failure !== undefined) reject(request, options.closedError())
            else yield* request.run
        }
      }
      yield* flush
    }).pipe(
      // Last resort against a bug in this loop: no request may be left waiting forever.
      Effect.onError(() => Effect.sync(() => rejectAll(requests, options.closedError())))
    )

  const groups: Stream.Stream<ReadonlyArray<WriterRequest>> =
    options.groupCommit === "eager"
      ? Stream.fromQueue(queue).pipe(Stream.chunks)
      : Stream.fromQueue(queue).pipe(
          Stream.aggregateWithin(
            groupSink(batchMaxEvents),
            Schedule.spaced(Duration.millis(options.batchMaxWaitMillis))
          )
        )

  // The last batch may still be in flight when the queue ends: wait for it before returning.
  return groups.pipe(Stream.runForEach(processGroup), Effect.andThen(drain))
}

// internals

/**
 * Completes a group at exactly `batchMaxEvents` events, or right after a command, handing the
 * rest of a pulled array back as leftovers — so group boundaries do not depend on how the queue
 * happened to be chunked. Works on whole arrays: no Effect per request.
 */
const groupSink = (
  batchMaxEvents: number
): Sink.Sink<ReadonlyArray<WriterRequest>, WriterRequest, WriterRequest> =>
  Sink.fromTransform((upstream) => {
    const group: Array<WriterRequest> = []
    let events = 0
    return Effect.gen(function* () {
      while (true) {
        const requests = yield* upstream
        for (let i = 0; i < requests.length; i++) {
          const request = requests[i] as WriterRequest
          group.push(request)
          if (request._tag === "AppendOne") events++
          else if (request._tag === "AppendMany") events += request.events.length
          else events = batchMaxEvents
          if (events >= batchMaxEvents) {
            const rest = requests.slice(i + 1)
            return isNonEmpty(rest) ? ([group, rest] as const) : ([group] as const)
          }
        }
      }
    }).pipe(Pull.catchDone(() => Effect.succeed([group] as const)))
  })

const isNonEmpty = <A>(array: ReadonlyArray<A>): array is readonly [A, ...Array<A>] => array.length > 0

const rejectAll = (requests: ReadonlyArray<WriterRequest>, error: ClosedError): void => {
  for (const request of requests) reject(request, error)
}
