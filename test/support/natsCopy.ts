/**
 * Checks of a shipped copy that do not go through `JetStreamSource`: the stream's own count of
 * messages on the subject, and a walk over every stored message by stream sequence number reading
 * only the NATS headers (first seq, event count, message id). An independent witness for the
 * "exactly once, in order, no gap" claims, and raw access for tests that plant bad messages.
 */
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream"
import { connect, type NatsConnection } from "@nats-io/transport-node"
import { Effect } from "effect"
import { EVENT_COUNT_HEADER, FIRST_SEQ_HEADER, WAL_ID_HEADER } from "../../src/jetstream/index.ts"

export interface Raw {
  readonly connection: NatsConnection
  readonly jsm: JetStreamManager
  readonly js: JetStreamClient
}

/** Runs `f` with a fresh connection, closed afterwards. */
export const withRaw = <A>(
  servers: ReadonlyArray<string> | string,
  f: (raw: Raw) => Promise<A>
): Effect.Effect<A> =>
  Effect.promise(async () => {
    const connection = await connect({ servers: typeof servers === "string" ? servers : [...servers] })
    try {
      const jsm = await jetstreamManager(connection)
      return await f({ connection, jsm, js: jetstream(connection) })
    } finally {
      await connection.close()
    }
  })

export interface CopyFacts {
  /** Messages on the subject, as the stream counts them. */
  readonly subjectMessages: number
  /** Messages on the subject found by walking the stream. */
  readonly walkedMessages: number
  /** Events announced by the walked messages' headers. */
  readonly events: number
  readonly firstSeq: bigint
  readonly lastSeq: bigint
  /** Each break of "consecutive, one WAL, distinct ids"; empty for a perfect copy. */
  readonly problems: ReadonlyArray<string>
}

/** Walks every message of `stream` on `subject` by stream sequence number, headers only. */
export const inspectCopy = (
  servers: ReadonlyArray<string> | string,
  stream: string,
  subject: string
): Effect.Effect<CopyFacts> =>
  withRaw(servers, async ({ jsm }) => {
    const info = await jsm.streams.info(stream, { subjects_filter: subject })
    const problems: Array<string> = []
    const ids = new Set<string>()
    const walIds = new Set<string>()
    let walked = 0
    let events = 0
    let firstSeq = 0n
    let next = 0n
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && seq > 0; seq++) {
      const message = await jsm.streams.getMessage(stream, { seq })
      if (message === null || message.subject !== subject) continue
      walked++
      const first = BigInt(message.header?.get(FIRST_SEQ_HEADER) ?? "-1")
      const count = Number(message.header?.get(EVENT_COUNT_HEADER) ?? "0")
      const id = message.header?.get("Nats-Msg-Id") ?? ""
      walIds.add(message.header?.get(WAL_ID_HEADER) ?? "")
      if (ids.has(id)) problems.push(`message id ${id} twice (stream seq ${seq})`)
      ids.add(id)
      if (walked === 1) firstSeq = first
      else if (first !== next) problems.push(`stream seq ${seq} starts at ${first}, expected ${next}`)
      if (count < 1) problems.push(`stream seq ${seq} announces ${count} events`)
      next = first + BigInt(count)
      events += count
    }
    if (walIds.size > 1) problems.push(`${walIds.size} WAL ids on one subject`)
    return {
      subjectMessages: info.state.subjects?.[subject] ?? 0,
      walkedMessages: walked,
      events,
      firstSeq,
      lastSeq: next - 1n,
      problems
    }
  })
