/**
 * The body `POST /events` accepts: one event or an array of events, each in the package's JSON
 * form (`decodeSignalEventJson`, built on `SignalEventFromJson`):
 *
 *   { "entityId": "42", "signalType": "like", "weight": 1.5, "timestamp": "1700000000000000000" }
 *
 * u64 fields (`entityId`, `timestamp` in nanoseconds since the epoch) are decimal strings, since a
 * JSON number loses precision past 2^53; `signalType` is a name (`view`, `like`, `skip`,
 * `completion`) or a number from 0 to 255; `weight` is stored as an f32.
 */
import { Effect } from "effect"
import { decodeSignalEventJson, InvalidEventError, type SignalEvent } from "../../src/index.ts"

/**
 * Decodes a parsed JSON body into the events to append, in order. A bad element fails with the
 * `InvalidEventError` `appendAll` would give, its field named `events[i].field`.
 */
export const decodePostedEvents = (
  json: unknown
): Effect.Effect<ReadonlyArray<SignalEvent>, InvalidEventError> =>
  Array.isArray(json)
    ? Effect.forEach(json, (element: unknown, i) =>
        decodeSignalEventJson(element).pipe(
          Effect.mapError(
            (e) =>
              new InvalidEventError({ field: `events[${i}].${e.field}`, value: e.value, detail: e.detail })
          )
        )
      )
    : Effect.map(decodeSignalEventJson(json), (event) => [event])
