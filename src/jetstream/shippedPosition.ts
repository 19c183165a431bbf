/**
 * Where the copy in JetStream ends: the last message on the WAL's subject, read from the stream
 * itself. This is the shipper's only state, so a restart — after a crash, on another process —
 * resumes exactly where the stream's copy ends, and never from a local file that could disagree.
 */
import type { JetStreamManager } from "@nats-io/jetstream"
import { Effect } from "effect"
import { request, type Target } from "./connection.ts"
import { JetStreamError } from "./JetStreamError.ts"
import { decodeMessageBody, WAL_ID_HEADER } from "./messageFormat.ts"

export interface ShippedPosition {
  /** The WAL sequence number of the last event on the subject; 0n when the subject is empty. */
  readonly lastSeq: bigint
  /** The stream sequence number of the last message on the subject; 0 when there is none. */
  readonly subjectStreamSeq: number
}

export const readShippedPosition = (
  jsm: JetStreamManager,
  target: Target,
  walId: string
): Effect.Effect<ShippedPosition, JetStreamError> =>
  Effect.gen(function* () {
    const last = yield* request(target, "reading the last message on the subject", () =>
      jsm.streams.getMessage(target.stream, { last_by_subj: target.subject })
    )
    if (last === null) return { lastSeq: 0n, subjectStreamSeq: 0 }
    const shippedBy = last.header?.get(WAL_ID_HEADER) ?? ""
    if (shippedBy !== walId) {
      return yield* new JetStreamError({
        ...target,
        reason: "ForeignMessage",
        detail: `message ${last.seq} was shipped by WAL "${shippedBy}", not by this WAL ${walId}: each WAL needs its own subject`
      })
    }
    const body = decodeMessageBody(last.data)
    if (typeof body === "string") {
      return yield* new JetStreamError({
        ...target,
        reason: "CorruptMessage",
        detail: `message ${last.seq}: ${body}`
      })
    }
    return { lastSeq: body.lastSeq, subjectStreamSeq: last.seq }
  })
