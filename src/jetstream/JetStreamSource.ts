/**
 * Reads a WAL's copy back out of JetStream as the WAL's own events (docs/JETSTREAM.md "Reading").
 *
 * `read` is a `Stream` of `ReplayedEvent` — the same type, the same sequence numbers, the same
 * order as `wal.read` — so a materializer on another machine runs the code it would run on the
 * WAL's host. It ends at the last message on the subject when the read began; `follow` never ends
 * and delivers each message as it is stored, like `wal.tail`. Every message is verified (WAL id,
 * BLAKE3 checksum, no gap, no repeat) before its events are delivered; a message that fails fails
 * the stream with a typed `JetStreamError`. A lost connection is reconnected and the read resumes
 * after the last message delivered; only a connection the client gives up on ends it
 * (`ConnectionLost`).
 *
 * If `fromSeq` precedes the first event of the copy, the stream starts at that first event, as
 * `wal.read` does after a truncation.
 *
 * @since 0.1.0
 */
import {
  DeliverPolicy,
  type JetStreamOptions,
  type JsMsg,
  jetstream,
  jetstreamManager
} from "@nats-io/jetstream"
import type { NatsConnection } from "@nats-io/transport-node"
import { Duration, Effect, Option, Stream } from "effect"
import type { ReplayedEvent } from "../SignalEvent.ts"
import { InvalidConfigError } from "../WalError.ts"
import { openConnection, request, type Target, toJetStreamError } from "./connection.ts"
import { JetStreamError } from "./JetStreamError.ts"
import { WAL_ID_HEADER } from "./messageFormat.ts"
import { MessageVerifier } from "./messageVerifier.ts"
import { type ConnectionOptions, checkStreamName, checkSubject, resolveConnection } from "./options.ts"
import { planRead, type ReadPlan } from "./sourcePlan.ts"
import { subjectMatches } from "./streamChecks.ts"

/** @category models */
export interface SourceOptions extends ConnectionOptions {
  readonly stream: string
  /** The subject one WAL ships to. */
  readonly subject: string
  /** The first WAL sequence number wanted. */
  readonly fromSeq: bigint
  /** The id of the WAL expected on the subject; by default, whichever shipped the first message read. */
  readonly walId?: string | undefined
  /** How long each request (stream info, message get) may take. Default 5 s. */
  readonly requestTimeout?: Duration.Input | undefined
}

/** Every way a read can fail. @category errors */
export type SourceError = JetStreamError | InvalidConfigError

/**
 * The events of the copy from `fromSeq` up to the last one on the subject when the read began.
 *
 * @category reading
 */
export const read = (options: SourceOptions): Stream.Stream<ReplayedEvent, SourceError> =>
  events(options, "read")

/**
 * The events of the copy from `fromSeq` on, then every event as its message is stored; never ends.
 *
 * @category reading
 */
export const follow = (options: SourceOptions): Stream.Stream<ReplayedEvent, SourceError> =>
  events(options, "follow")

// internals

/** Messages requested from the server at a time, each up to the shipper's `maxMessageBytes`. */
const MESSAGES_IN_FLIGHT = 32
/** A pull waits this long for messages; heartbeats every second reveal a dead server sooner. */
const PULL_EXPIRES_MILLIS = 5000
const IDLE_HEARTBEAT_MILLIS = 1000

const events = (options: SourceOptions, mode: "read" | "follow"): Stream.Stream<ReplayedEvent, SourceError> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const resolved = yield* resolveSourceOptions(options)
      const target = { stream: resolved.stream, subject: resolved.subject }
      const connection = yield* openConnection(
        {
          servers: resolved.connection.servers,
          name: resolved.connection.connectionName,
          connectTimeoutMillis: resolved.connection.connectTimeoutMillis,
          options: resolved.connection.connectionOptions
        },
        target
      )
      // No account-info probe (`checkAPI`): it needs the cluster's meta leader, the read does not.
      const apiOptions = { timeout: resolved.requestTimeoutMillis, checkAPI: false }
      const jsm = yield* request(target, "opening the JetStream API", () =>
        jetstreamManager(connection, apiOptions)
      )
      const info = yield* request(target, "reading the stream", () => jsm.streams.info(target.stream))
      const subjects = info.config.subjects ?? []
      if (!subjects.some((pattern) => subjectMatches(pattern, target.subject))) {
        return yield* new JetStreamError({
          ...target,
          reason: "StreamMisconfigured",
          detail: `subjects [${subjects.join(", ")}] do not cover ${target.subject}`
        })
      }
      const plan = yield* planRead(connection, jsm, target, resolved.fromSeq, resolved.requestTimeoutMillis)
      if (mode === "read" && (plan.endStreamSeq === 0 || plan.endSeq < resolved.fromSeq)) return Stream.empty
      const verifier = new MessageVerifier(target, resolved.fromSeq, resolved.walId)
      return messagesFrom(connection, apiOptions, target, plan, mode).pipe(
        Stream.mapEffect((message) => {
          const accepted = verifier.accept({
            seq: message.seq,
            data: message.data,
            walId: message.headers?.get(WAL_ID_HEADER)
          })
          return accepted instanceof JetStreamError ? Effect.fail(accepted) : Effect.succeed(accepted)
        }),
        Stream.flattenIterable
      )
    })
  )

/** The subject's messages from the plan's start, through an ordered consumer (ends with `read`'s end). */
const messagesFrom = (
  connection: NatsConnection,
  apiOptions: JetStreamOptions,
  target: Target,
  plan: ReadPlan,
  mode: "read" | "follow"
): Stream.Stream<JsMsg, JetStreamError> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const consumer = yield* request(target, "creating an ordered consumer", () =>
        jetstream(connection, apiOptions).consumers.get(target.stream, {
          filter_subjects: target.subject,
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: plan.startStreamSeq
        })
      )
      const messages = yield* Effect.acquireRelease(
        request(target, "consuming", () =>
          consumer.consume({
            max_messages: MESSAGES_IN_FLIGHT,
            expires: PULL_EXPIRES_MILLIS,
            idle_heartbeat: IDLE_HEARTBEAT_MILLIS
          })
        ),
        (consuming) =>
          Effect.promise(() =>
            consuming.close().then(
              () => undefined,
              () => undefined
            )
          )
      )
      // The consumer's iterator ends quietly when the client gives up the connection: that is
      // a failure for a stream that has not reached its end.
      const endedEarly = Stream.suspend(() =>
        Stream.fail(
          new JetStreamError({
            ...target,
            reason: connection.isClosed() ? "ConnectionLost" : "Unavailable",
            detail: "the consumer stopped before the end of the copy"
          })
        )
      )
      const received = Stream.fromAsyncIterable(messages, (cause) =>
        toJetStreamError(target, "receiving messages", cause)
      ).pipe(Stream.concat(endedEarly))
      return mode === "read"
        ? received.pipe(Stream.takeUntil((message) => message.seq >= plan.endStreamSeq))
        : received
    })
  )

interface ResolvedSourceOptions {
  readonly connection: Effect.Success<ReturnType<typeof resolveConnection>>
  readonly stream: string
  readonly subject: string
  readonly fromSeq: bigint
  readonly walId: string | undefined
  readonly requestTimeoutMillis: number
}

const U64_MAX = 0xffff_ffff_ffff_ffffn
const WAL_ID_PATTERN = /^[0-9a-f]{32}$/

const resolveSourceOptions = (
  options: SourceOptions
): Effect.Effect<ResolvedSourceOptions, InvalidConfigError> =>
  Effect.gen(function* () {
    const connection = yield* resolveConnection(options, "tidal-wal source")
    const stream = yield* checkStreamName(options.stream)
    const subject = yield* checkSubject(options.subject)
    const { fromSeq, walId } = options
    if (typeof fromSeq !== "bigint" || fromSeq < 0n || fromSeq > U64_MAX) {
      return yield* invalid("fromSeq", String(fromSeq), "a sequence number: a bigint from 0n to 2^64 - 1")
    }
    if (walId !== undefined && !WAL_ID_PATTERN.test(walId)) {
      return yield* invalid("walId", walId, "32 lowercase hex digits, as in the WAL's wal-id file")
    }
    const timeout = Duration.fromInput(options.requestTimeout ?? "5 seconds")
    const requestTimeoutMillis = Option.isSome(timeout) ? Duration.toMillis(timeout.value) : Number.NaN
    if (!Number.isFinite(requestTimeoutMillis) || requestTimeoutMillis < 1) {
      return yield* invalid(
        "requestTimeout",
        String(options.requestTimeout),
        "a finite duration of at least 1 ms"
      )
    }
    return { connection, stream, subject, fromSeq, walId, requestTimeoutMillis }
  })

const invalid = (field: string, value: string, detail: string) =>
  Effect.fail(new InvalidConfigError({ field, value, detail }))
