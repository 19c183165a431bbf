/**
 * Turns the messages of one WAL's subject, in stream order, back into the WAL's events — and
 * refuses anything that would make them differ from the WAL: a message from another WAL, a body
 * that fails its checksum, a message that skips or repeats sequence numbers.
 *
 * Reading is where exactly-once is checked, not assumed: a reader that accepts its input sees
 * precisely the WAL's events, each once, in order, from the first one it delivers.
 */
import type { ReplayedEvent } from "../SignalEvent.ts"
import type { Target } from "./connection.ts"
import { JetStreamError } from "./JetStreamError.ts"
import { decodeMessageBody, eventsOf } from "./messageFormat.ts"

/** The parts of a received message the verifier reads. */
export interface ReceivedMessage {
  /** The stream sequence number. */
  readonly seq: number
  readonly data: Uint8Array
  readonly walId: string | undefined
}

export class MessageVerifier {
  private readonly target: Target
  private readonly fromSeq: bigint
  private walId: string | undefined
  /** The WAL sequence number the next message must start at; unknown before the first. */
  private nextSeq: bigint | undefined

  constructor(target: Target, fromSeq: bigint, walId: string | undefined) {
    this.target = target
    this.fromSeq = fromSeq
    this.walId = walId
  }

  /** The events of `message` at or after `fromSeq`, or why the message cannot be accepted. */
  accept(message: ReceivedMessage): Array<ReplayedEvent> | JetStreamError {
    const shippedBy = message.walId ?? ""
    if (this.walId === undefined) this.walId = shippedBy
    if (shippedBy !== this.walId) {
      return this.error(
        "ForeignMessage",
        `message ${message.seq} was shipped by WAL "${shippedBy}", the subject's earlier messages by "${this.walId}"`
      )
    }
    const body = decodeMessageBody(message.data)
    if (typeof body === "string") return this.error("CorruptMessage", `message ${message.seq}: ${body}`)
    if (this.nextSeq !== undefined && body.firstSeq !== this.nextSeq) {
      const reason = body.firstSeq > this.nextSeq ? "Gap" : "OutOfOrder"
      return this.error(
        reason,
        `message ${message.seq} starts at seq ${body.firstSeq}, the copy continues at ${this.nextSeq}`
      )
    }
    this.nextSeq = body.lastSeq + 1n
    return body.lastSeq < this.fromSeq ? [] : eventsOf(body, this.fromSeq)
  }

  private error(
    reason: "ForeignMessage" | "CorruptMessage" | "Gap" | "OutOfOrder",
    detail: string
  ): JetStreamError {
    return new JetStreamError({ ...this.target, reason, detail })
  }
}
