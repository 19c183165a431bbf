/**
 * Forms the writer's groups (docs/FORMAT.md "Group commit"): the first waiting request plus
 * whatever arrives until the group holds `batchMaxEvents` events, or the window has passed since
 * the first one, whichever comes first. The window is an Effect `Schedule` (GroupCommitWindow.ts):
 * each group that has to wait steps it with its size and the previous group's, and waits the
 * delay it answers; once it ends, groups go at once.
 *
 * Everything already queued is taken at once; the whole batches in it form the group, and what is
 * left over starts the next group, whose window starts then — so under load no timer is ever
 * set, and a partial batch still gets its full window. A group ends at a command (truncate,
 * checkpoint must not sit out the window). The eager policy takes whatever is waiting and never
 * waits.
 */
import { type Cause, Clock, Duration, Effect, Option, Queue, Schedule } from "effect"
import type { GroupCommitInput, GroupCommitWindow } from "../../GroupCommitWindow.ts"
import type { WriterRequest } from "./requests.ts"

export interface CollectorOptions {
  readonly queue: Queue.Queue<WriterRequest, Cause.Done>
  readonly batchMaxEvents: number
  /** The window; `"eager"` takes whatever is waiting and never waits. */
  readonly window: GroupCommitWindow | "eager"
}

export interface Collector {
  /** Succeeds with the next group, or `undefined` once the queue has ended and is empty. */
  readonly next: Effect.Effect<ReadonlyArray<WriterRequest> | undefined>
  /**
   * The requests taken from the queue but not yet in a group: the writer's last resort must fail
   * them too, as they are in neither its group nor the queue.
   */
  readonly carried: () => ReadonlyArray<WriterRequest>
}

export const makeCollector = (options: CollectorOptions): Effect.Effect<Collector> =>
  Effect.gen(function* () {
    const { queue, batchMaxEvents } = options
    const windowMillis = yield* makeWindowStep(options)
    let previousGroupEvents = 0

    const takeWaiting = Queue.takeBetween(queue, 1, Number.MAX_SAFE_INTEGER)
    /** Requests taken but not yet grouped: the start of the next group. */
    let carried: Array<WriterRequest> = []

    /** Splits off the group to write now; the rest is carried. */
    const cut = (requests: Array<WriterRequest>): ReadonlyArray<WriterRequest> => {
      const end = groupEnd(requests, batchMaxEvents)
      carried = requests.slice(end)
      return requests.slice(0, end)
    }

    const next = Effect.gen(function* () {
      let group = carried
      carried = []
      if (group.length === 0) {
        const taken = yield* takeWaiting.pipe(Effect.catchTag("Done", () => Effect.succeed(undefined)))
        if (taken === undefined) return undefined
        group = [...taken]
      }
      let events = countEvents(group)
      if (windowMillis === undefined) return group
      if (events >= batchMaxEvents) {
        previousGroupEvents = batchMaxEvents
        return cut(group)
      }
      const startMillis = yield* Clock.currentTimeMillis
      const waitMillis = yield* windowMillis(startMillis, {
        groupEvents: events,
        previousGroupEvents,
        batchMaxEvents
      })
      const deadlineMillis = startMillis + waitMillis
      while (events < batchMaxEvents) {
        const remainingMillis = deadlineMillis - (yield* Clock.currentTimeMillis)
        if (remainingMillis <= 0) break
        const more = yield* takeWaiting.pipe(
          Effect.timeoutOption(Duration.millis(remainingMillis)),
          // The queue ended while the group waited: write what it holds.
          Effect.catchTag("Done", () => Effect.succeed(Option.none()))
        )
        if (Option.isNone(more)) break
        group.push(...more.value)
        events = countEvents(group)
      }
      previousGroupEvents = Math.min(events, batchMaxEvents)
      return events >= batchMaxEvents ? cut(group) : group
    })
    return { next, carried: () => carried }
  })

/**
 * The window's step as milliseconds to wait, or `undefined` for eager. Once the schedule ends
 * (or fails), every later group waits 0.
 */
const makeWindowStep = (options: CollectorOptions) =>
  Effect.gen(function* () {
    if (options.window === "eager") return undefined
    const step = yield* Schedule.toStep(options.window)
    let ended = false
    return (nowMillis: number, input: GroupCommitInput): Effect.Effect<number> =>
      ended
        ? Effect.succeed(0)
        : step(nowMillis, input).pipe(
            Effect.map(([, delay]) => Duration.toMillis(delay)),
            Effect.catchCause(() =>
              Effect.sync(() => {
                ended = true
                return 0
              })
            )
          )
  })

// internals

/**
 * Where the group to write now ends: right after a command, or after the last request that
 * completes a whole number of batches.
 */
const groupEnd = (requests: ReadonlyArray<WriterRequest>, batchMaxEvents: number): number => {
  const total = countEvents(requests)
  const whole = Math.floor(total / batchMaxEvents) * batchMaxEvents
  let events = 0
  for (let i = 0; i < requests.length; i++) {
    const request = requests[i] as WriterRequest
    if (request._tag === "Command") return i + 1
    events += request._tag === "AppendOne" ? 1 : request.count
    if (events >= whole) return i + 1
  }
  return requests.length
}

/** Events in `requests`; a command counts as a full group, since a group ends at a command. */
const countEvents = (requests: ReadonlyArray<WriterRequest>): number => {
  let events = 0
  for (const request of requests) {
    if (request._tag === "AppendOne") events++
    else if (request._tag === "AppendMany") events += request.count
    else return Number.POSITIVE_INFINITY
  }
  return events
}
