/**
 * Where a read of the copy starts and ends, in stream sequence numbers.
 *
 * Messages on one WAL's subject carry increasing WAL sequence numbers, so the message holding
 * `fromSeq` is found by a binary search over stream sequence numbers, asking the server for "the
 * next message on the subject at or after N" (`next_by_subj`, JetStream 2.9+): about log2(stream
 * length) requests, instead of reading the whole subject to skip what precedes `fromSeq`.
 */
import type { JetStreamManager } from "@nats-io/jetstream"
import type { NatsConnection } from "@nats-io/transport-node"
import { Effect, Schema } from "effect"
import { request, type Target } from "./connection.ts"
import { JetStreamError } from "./JetStreamError.ts"
import { decodeMessageBody, type MessageBody } from "./messageFormat.ts"

export interface ReadPlan {
  /** The stream sequence number to start consuming at. */
  readonly startStreamSeq: number
  /** The last message on the subject when the read began; 0 when the subject was empty. */
  readonly endStreamSeq: number
  /** The WAL sequence number of the last event on the subject then; 0n when empty. */
  readonly endSeq: bigint
}

export const planRead = (
  connection: NatsConnection,
  jsm: JetStreamManager,
  target: Target,
  fromSeq: bigint,
  timeoutMillis: number
): Effect.Effect<ReadPlan, JetStreamError> =>
  Effect.gen(function* () {
    const info = yield* request(target, "reading the stream's state", () => jsm.streams.info(target.stream))
    const last = yield* request(target, "reading the last message on the subject", () =>
      jsm.streams.getMessage(target.stream, { last_by_subj: target.subject })
    )
    if (last === null) return { startStreamSeq: info.state.last_seq + 1, endStreamSeq: 0, endSeq: 0n }
    const lastBody = yield* bodyOf(target, last.seq, last.data)
    const plan = { endStreamSeq: last.seq, endSeq: lastBody.lastSeq }
    if (lastBody.firstSeq <= fromSeq) return { ...plan, startStreamSeq: last.seq }
    const probe = (streamSeq: number) => nextOnSubject(connection, target, streamSeq, timeoutMillis)
    const found = yield* lastMessageStartingAtOrBefore(probe, fromSeq, info.state.first_seq, last.seq - 1)
    return { ...plan, startStreamSeq: found ?? info.state.first_seq }
  })

interface Probed {
  readonly streamSeq: number
  readonly body: MessageBody
}

/**
 * The stream sequence number of the last message in `[low, high]` whose first event is at or
 * before `fromSeq`, or `undefined` when every message there starts after it.
 */
export const lastMessageStartingAtOrBefore = <E>(
  probe: (streamSeq: number) => Effect.Effect<Probed | undefined, E>,
  fromSeq: bigint,
  low: number,
  high: number
): Effect.Effect<number | undefined, E> =>
  Effect.gen(function* () {
    let lo = low
    let hi = high
    let best: number | undefined
    while (lo <= hi) {
      const mid = lo + Math.floor((hi - lo) / 2)
      const found = yield* probe(mid)
      if (found === undefined || found.streamSeq > hi || found.body.firstSeq > fromSeq) {
        hi = mid - 1
      } else {
        best = found.streamSeq
        lo = found.streamSeq + 1
      }
    }
    return best
  })

// internals

const StoredMessageJson = Schema.Struct({
  seq: Schema.Number,
  data: Schema.optional(Schema.String)
})

const MessageGetResponse = Schema.Struct({
  message: Schema.optional(StoredMessageJson),
  error: Schema.optional(Schema.Struct({ code: Schema.Number, err_code: Schema.optional(Schema.Number) }))
})

const decodeResponse = Schema.decodeUnknownExit(Schema.fromJsonString(MessageGetResponse))

/** JetStream's "no message found" API error code. */
const NO_MESSAGE_FOUND = 10037
const STREAM_NOT_FOUND = 10059

/**
 * The first message on the subject at or after stream sequence `streamSeq`, through the raw
 * message-get API: the client's typed `getMessage` does not offer `next_by_subj`.
 */
const nextOnSubject = (
  connection: NatsConnection,
  target: Target,
  streamSeq: number,
  timeoutMillis: number
): Effect.Effect<Probed | undefined, JetStreamError> =>
  Effect.gen(function* () {
    const reply = yield* request(target, `reading the message at or after ${streamSeq}`, () =>
      connection.request(
        `$JS.API.STREAM.MSG.GET.${target.stream}`,
        JSON.stringify({ seq: streamSeq, next_by_subj: target.subject }),
        { timeout: timeoutMillis }
      )
    )
    const decoded = decodeResponse(reply.string())
    if (decoded._tag === "Failure") {
      return yield* new JetStreamError({
        ...target,
        reason: "Rejected",
        detail: "unreadable message-get reply"
      })
    }
    const { message, error } = decoded.value
    if (error !== undefined) {
      if (error.err_code === NO_MESSAGE_FOUND) return undefined
      const reason = error.err_code === STREAM_NOT_FOUND ? "StreamNotFound" : "Rejected"
      return yield* new JetStreamError({
        ...target,
        reason,
        detail: `message get: error ${error.err_code ?? error.code}`
      })
    }
    if (message === undefined) return undefined
    const body = yield* bodyOf(target, message.seq, Buffer.from(message.data ?? "", "base64"))
    return { streamSeq: message.seq, body }
  })

const bodyOf = (
  target: Target,
  streamSeq: number,
  data: Uint8Array
): Effect.Effect<MessageBody, JetStreamError> => {
  const body = decodeMessageBody(data)
  return typeof body === "string"
    ? Effect.fail(
        new JetStreamError({ ...target, reason: "CorruptMessage", detail: `message ${streamSeq}: ${body}` })
      )
    : Effect.succeed(body)
}
