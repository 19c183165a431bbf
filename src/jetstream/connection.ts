/**
 * A NATS connection as a scoped resource, and the mapping of the client's thrown errors to
 * `JetStreamError` reasons.
 *
 * The client reconnects by itself (to any server of the cluster it has learnt of), forever by
 * default: a shipper or a follower should outlive a server restart. Only the first connection is
 * allowed to fail, as `Unreachable`, so a wrong address is reported at start instead of retried.
 */
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream"
import {
  ClosedConnectionError,
  connect,
  DrainingConnectionError,
  type NatsConnection,
  type NodeConnectionOptions,
  RequestError,
  TimeoutError
} from "@nats-io/transport-node"
import { Effect, type Scope } from "effect"
import { JetStreamError, type JetStreamErrorReason } from "./JetStreamError.ts"

/** Where an error happened, for its message. */
export interface Target {
  readonly stream: string
  readonly subject: string
}

export interface ConnectionSettings {
  readonly servers: string | ReadonlyArray<string>
  /** The connection's name, as servers show it (`nats server report connections`). */
  readonly name: string
  readonly connectTimeoutMillis: number
  /** Further client options: credentials, TLS, reconnect policy. */
  readonly options?: Partial<NodeConnectionOptions> | undefined
}

/** Connects; the connection is closed when the scope closes. */
export const openConnection = (
  settings: ConnectionSettings,
  target: Target
): Effect.Effect<NatsConnection, JetStreamError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () =>
        connect({
          maxReconnectAttempts: -1,
          reconnectTimeWait: 250,
          // Otherwise every request builds an Error up front for its stack: a measurable share of
          // the shipper's CPU at hundreds of publishes a second.
          noAsyncTraces: true,
          ...settings.options,
          servers: typeof settings.servers === "string" ? settings.servers : [...settings.servers],
          name: settings.name,
          timeout: settings.connectTimeoutMillis
        }),
      catch: (cause) =>
        new JetStreamError({
          ...target,
          reason: "Unreachable",
          detail: `cannot connect to ${String(settings.servers)}: ${describe(cause)}`,
          cause
        })
    }),
    (connection) => Effect.promise(() => connection.close().catch(() => undefined))
  )

/** Runs a client call, mapping what it throws to a `JetStreamError` saying what was being done. */
export const request = <A>(
  target: Target,
  doing: string,
  call: () => Promise<A>
): Effect.Effect<A, JetStreamError> =>
  Effect.tryPromise({ try: call, catch: (cause) => toJetStreamError(target, doing, cause) })

export const toJetStreamError = (target: Target, doing: string, cause: unknown): JetStreamError =>
  new JetStreamError({ ...target, reason: reasonOf(cause), detail: `${doing}: ${describe(cause)}`, cause })

const reasonOf = (cause: unknown): JetStreamErrorReason => {
  if (cause instanceof JetStreamApiError) {
    return cause.code === JetStreamApiCodes.StreamNotFound ? "StreamNotFound" : "Rejected"
  }
  if (cause instanceof ClosedConnectionError || cause instanceof DrainingConnectionError)
    return "ConnectionLost"
  // Timeouts, and "no responders" (the client calls it JetStreamNotEnabled): nobody answered,
  // which is what a server down or a stream between leaders looks like.
  if (cause instanceof TimeoutError || cause instanceof RequestError) return "Unavailable"
  if (cause instanceof Error && cause.name === "JetStreamNotEnabled") return "Unavailable"
  return "Rejected"
}

export const describe = (cause: unknown): string => {
  if (!(cause instanceof Error)) return String(cause)
  const inner = cause.cause instanceof Error ? ` (${cause.cause.message})` : ""
  return `${cause.message}${inner}`
}
