/**
 * `appendAll`'s input, captured at the call: the iterable is walked once, every event copied and
 * checked (see `captureSignalEvent`), so the caller may reuse its array and its events at once.
 * Whatever `events` is — null, a number, a single event, an iterator that throws — the result is
 * an `InvalidEventError`, never a throw.
 */
import { captureSignalEvent, type SignalEvent } from "../../SignalEvent.ts"
import { InvalidEventError } from "../../WalError.ts"
import { describeThrown, formatValue } from "../schemaIssue.ts"

/**
 * Copies every event of `events` (see `captureSignalEvent`) into a fresh array, or fails with
 * the `InvalidEventError` naming the first bad one (`events[i].field`). Whatever `events` is —
 * null, a number, a single event, an iterator that throws — the result is an error, never a
 * throw: a non-iterable is reported on the field "events".
 */
export const captureEvents = (events: unknown): Array<SignalEvent> | InvalidEventError => {
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
