/**
 * `appendAll`'s input, captured at the call: the iterable is walked once, every event's fields
 * read once and checked (see `readEventFields`), and each event encoded at once as its 21-byte
 * record (docs/FORMAT.md §2) into one buffer for the call. The caller may reuse its array and its
 * events at once; the writer copies the records into its batch, with no object per event kept in
 * between. Whatever `events` is — null, a number, a single event, an iterator that throws — the
 * result is an `InvalidEventError`, never a throw.
 */
import { type EventFields, hasValidFields, invalidEventError, readEventFields } from "../../SignalEvent.ts"
import { InvalidEventError } from "../../WalError.ts"
import { writeEventRecord } from "../format/eventRecord.ts"
import { EVENT_RECORD_BYTES } from "../format/layout.ts"
import { describeThrown, formatValue } from "../schemaIssue.ts"

/** The events of one call, as records: event `i` is bytes `21 i .. 21 (i + 1)` of `records`. */
export interface CapturedEvents {
  readonly records: Uint8Array
  readonly count: number
}

/**
 * Encodes every event of `events` into a fresh buffer, or fails with the `InvalidEventError`
 * naming the first bad one (`events[i].field`). A non-iterable is reported on the field "events".
 */
export const captureEvents = (events: unknown): CapturedEvents | InvalidEventError => {
  const iterator = iteratorOf(events)
  if (iterator instanceof InvalidEventError) return iterator
  let sink: Sink | undefined
  try {
    // An array's length sizes the buffer: one allocation for the call.
    sink = makeSink(iterator === ARRAY ? (events as ReadonlyArray<unknown>).length : INITIAL_EVENTS)
    const failure = iterator === ARRAY ? captureArray(events, sink) : captureIterated(iterator, sink)
    return failure ?? { records: sink.bytes.subarray(0, sink.count * EVENT_RECORD_BYTES), count: sink.count }
  } catch (cause) {
    return eventsError(
      formatValue(events),
      `iterating threw after ${sink?.count ?? 0} events: ${describeThrown(cause)}`
    )
  }
}

// internals

/** The growing buffer of one call's records, and the fields of the event being captured. */
interface Sink {
  bytes: Uint8Array
  view: DataView
  count: number
  readonly fields: EventFields
}

/** Events the buffer starts with room for when no array length sizes it. */
const INITIAL_EVENTS = 16
/** A hostile `length` (a sparse array, a Proxy) must not allocate gigabytes before any event is read. */
const PRESIZE_MAX_EVENTS = 65_536

const makeSink = (events: number): Sink => {
  // `events` may be anything a hostile `length` answered: NaN, negative, huge.
  const capacity = events >= 1 ? Math.min(events, PRESIZE_MAX_EVENTS) : INITIAL_EVENTS
  const bytes = new Uint8Array(capacity * EVENT_RECORD_BYTES)
  return {
    bytes,
    view: new DataView(bytes.buffer),
    count: 0,
    // One per call, not per event; and not shared between calls: a getter may call appendAll.
    fields: { entityId: undefined, signalType: undefined, weight: undefined, timestamp: undefined }
  }
}

/** Reads, checks and encodes one event; answers its error, already placed at its index. */
const captureOne = (sink: Sink, value: unknown): InvalidEventError | undefined => {
  const { fields } = sink
  const unreadable = readEventFields(value, fields)
  if (unreadable !== undefined) return inEvents(sink.count, unreadable)
  // A copy for the report: the Schema's decode reads what was read, never the caller's value.
  if (!hasValidFields(fields)) return inEvents(sink.count, invalidEventError({ ...fields }))
  if ((sink.count + 1) * EVENT_RECORD_BYTES > sink.bytes.length) grow(sink)
  writeEventRecord(sink.view, sink.count * EVENT_RECORD_BYTES, fields)
  sink.count++
  return undefined
}

const grow = (sink: Sink): void => {
  const bytes = new Uint8Array(sink.bytes.length * 2)
  bytes.set(sink.bytes.subarray(0, sink.count * EVENT_RECORD_BYTES))
  sink.bytes = bytes
  sink.view = new DataView(bytes.buffer)
}

/**
 * An array with the built-in iterator, walked by index: what that iterator does (reading
 * `length` and then the element at each step, so a Proxy sees the same reads), without a result
 * object per step.
 */
const captureArray = (events: unknown, sink: Sink): InvalidEventError | undefined => {
  const array = events as ReadonlyArray<unknown>
  for (let i = 0; i < array.length; i++) {
    const failure = captureOne(sink, array[i])
    if (failure !== undefined) return failure
  }
  return undefined
}

const captureIterated = (iterator: Iterator<unknown>, sink: Sink): InvalidEventError | undefined => {
  for (let step = nextStep(iterator); step.done !== true; step = nextStep(iterator)) {
    const failure = captureOne(sink, step.value)
    if (failure === undefined) continue
    try {
      iterator.return?.()
    } catch {
      // A throwing `return` after a bad event must not hide the bad event.
    }
    return failure
  }
  return undefined
}

/** Marks an array whose iterator is the built-in one: `captureArray` walks it by index. */
const ARRAY = Symbol("array")
const arrayIterator = Array.prototype[Symbol.iterator]

const iteratorOf = (events: unknown): Iterator<unknown> | typeof ARRAY | InvalidEventError => {
  if (events === null || events === undefined) {
    return eventsError(formatValue(events), "expected an iterable of events")
  }
  try {
    const iterate = (events as { readonly [Symbol.iterator]?: unknown })[Symbol.iterator]
    if (iterate === arrayIterator && Array.isArray(events)) return ARRAY
    if (typeof iterate !== "function") {
      return eventsError(
        formatValue(events),
        "expected an iterable of events (an array, a Set, a generator…), not a single value"
      )
    }
    const iterator: unknown = iterate.call(events)
    if (typeof iterator !== "object" || iterator === null)
      return eventsError(formatValue(events), "its iterator is not an object")
    return iterator as Iterator<unknown>
  } catch (cause) {
    return eventsError(formatValue(events), `starting to iterate threw: ${describeThrown(cause)}`)
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
