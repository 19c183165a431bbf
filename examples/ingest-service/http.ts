/**
 * The HTTP API, as router layers (Effect's own `effect/http`):
 *
 *   POST /events             one event or an array (eventJson.ts) -> 200 { "seqs": ["17", "0"] }
 *   GET  /aggregates         every entity, by entityId            -> 200 { "appliedSeq", "entities": [...] }
 *   GET  /aggregates/:id     one entity                           -> 200 { "appliedSeq", "entity" } | 404
 *   GET  /status             seqs of the pipeline                 -> 200 { "appliedSeq", "snapshotSeq", "lastSeq", "walId" }
 *
 * A POST answers only once every event in it is durable (fsynced); "0" marks an event the WAL
 * already had within its dedup window (a retry), which it did not write again. Sequence numbers,
 * ids and timestamps are decimal strings. Errors answer `{ "error": "..." }` with 400 (bad JSON
 * or event), 413 (body too large), 503 (WAL closed) or 500 (disk failure).
 */
import { Effect, Layer } from "effect"
import { HttpRouter, type HttpServerError, HttpServerRequest, HttpServerResponse } from "effect/http"
import { type ClosedError, type InvalidEventError, type IoError, WalHandle } from "../../src/index.ts"
import { type EntityAggregate, scoreAt } from "./aggregates.ts"
import { IngestConfig } from "./config.ts"
import { decodePostedEvents } from "./eventJson.ts"
import { Materializer } from "./materializer.ts"

const errorResponse = (status: number, message: string) =>
  HttpServerResponse.jsonUnsafe({ error: message }, { status })

const postEvents = HttpRouter.add(
  "POST",
  "/events",
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const events = yield* decodePostedEvents(yield* request.json)
    const wal = yield* WalHandle
    const seqs = yield* wal.appendAll(events)
    return HttpServerResponse.jsonUnsafe({ seqs: seqs.map(String) })
  }).pipe(Effect.catch(postErrorResponse))
)

function postErrorResponse(
  error: HttpServerError.HttpServerError | InvalidEventError | ClosedError | IoError
): Effect.Effect<HttpServerResponse.HttpServerResponse> {
  switch (error._tag) {
    case "HttpServerError": {
      const tooLarge = error.reason._tag === "RequestParseError" && error.reason.reason === "BodyTooLarge"
      return Effect.succeed(
        errorResponse(
          tooLarge ? 413 : 400,
          tooLarge ? error.message : `the body is not JSON: ${error.message}`
        )
      )
    }
    case "InvalidEventError":
      return Effect.succeed(errorResponse(400, error.message))
    case "ClosedError":
      return Effect.succeed(errorResponse(503, error.message))
    case "IoError":
      return Effect.as(Effect.logError("append failed", error), errorResponse(500, error.message))
  }
}

/** An entity's aggregate as JSON; with `atNanos`, its score is also decayed to that moment. */
const entityJson = (
  entityId: bigint,
  aggregate: EntityAggregate,
  halfLifeNanos: bigint,
  atNanos: bigint | undefined
) => ({
  entityId: String(entityId),
  eventCount: aggregate.eventCount,
  countsBySignal: aggregate.countsBySignal,
  score: aggregate.score,
  scoreAtNanos: String(aggregate.scoreAtNanos),
  ...(atNanos === undefined ? {} : { scoreAt: scoreAt(aggregate, atNanos, halfLifeNanos) })
})

/** `?at=<nanos>`: decay every score to that moment, so entities compare at one time. */
const atNanosParam = Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
  const at = new URL(request.url, "http://localhost").searchParams.get("at")
  return at !== null && /^\d{1,20}$/.test(at) ? BigInt(at) : undefined
})

const getAggregates = HttpRouter.add(
  "GET",
  "/aggregates",
  Effect.gen(function* () {
    const { state } = yield* Materializer
    const { halfLifeNanos } = yield* IngestConfig
    const atNanos = yield* atNanosParam
    // Built in one synchronous step: the materializer cannot apply an event halfway through.
    const entities = Array.from(state.entities)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([entityId, aggregate]) => entityJson(entityId, aggregate, halfLifeNanos, atNanos))
    return HttpServerResponse.jsonUnsafe({ appliedSeq: String(state.appliedSeq), entities })
  })
)

const getAggregate = HttpRouter.add(
  "GET",
  "/aggregates/:entityId",
  Effect.gen(function* () {
    const { state } = yield* Materializer
    const { halfLifeNanos } = yield* IngestConfig
    const { entityId } = yield* HttpRouter.params
    const atNanos = yield* atNanosParam
    const id = entityId !== undefined && /^\d{1,20}$/.test(entityId) ? BigInt(entityId) : undefined
    const aggregate = id === undefined ? undefined : state.entities.get(id)
    if (id === undefined || aggregate === undefined) return errorResponse(404, `no entity ${entityId}`)
    return HttpServerResponse.jsonUnsafe({
      appliedSeq: String(state.appliedSeq),
      entity: entityJson(id, aggregate, halfLifeNanos, atNanos)
    })
  })
)

const getStatus = HttpRouter.add(
  "GET",
  "/status",
  Effect.gen(function* () {
    const materializer = yield* Materializer
    const wal = yield* WalHandle
    const lastSeq = (yield* wal.nextSeq) - 1n
    return HttpServerResponse.jsonUnsafe({
      appliedSeq: String(materializer.state.appliedSeq),
      snapshotSeq: String(materializer.snapshotSeq()),
      lastSeq: String(lastSeq),
      walId: wal.walId
    })
  })
)

/** Every route of the service. */
export const routes = Layer.mergeAll(postEvents, getAggregates, getAggregate, getStatus)
