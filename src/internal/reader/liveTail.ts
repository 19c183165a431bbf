/**
 * `tail(fromSeq)`: the events already durable, read from disk, then every batch as it becomes
 * durable, until the WAL shuts down.
 *
 * The writer publishes each durable batch to a sliding PubSub and never waits for a reader: a
 * tail that falls behind loses published batches, notices the gap by sequence number and reads
 * the missing range from disk instead. So the writer is never slowed by a consumer, memory stays
 * bounded, and the consumer still sees every event exactly once and in order, at its own pace.
 * Shutdown ends the subscription; the tail then reads whatever it had not delivered and ends.
 */
import { Effect, PubSub, Stream } from "effect"
import type { ReplayedEvent } from "../../SignalEvent.ts"
import { readEventRecord } from "../format/eventRecord.ts"
import { EVENT_RECORD_BYTES } from "../format/layout.ts"
import type { ReadError } from "./logReader.ts"

/** A durable batch as published to tails: its records are a copy the writer will not reuse. */
export interface PublishedBatch {
  readonly firstSeq: bigint
  readonly records: Uint8Array
}

export interface LiveTailSource {
  readonly published: PubSub.PubSub<PublishedBatch>
  readonly lastDurableSeq: () => bigint
  /** Durable events in `[fromSeq, toSeq]`, from disk. */
  readonly read: (fromSeq: bigint, toSeq: bigint) => Stream.Stream<ReplayedEvent, ReadError>
  readonly subscribed: (delta: 1 | -1) => void
}

/** Batches a sliding tail subscription may hold before the oldest is dropped (and re-read). */
export const TAIL_BUFFER_BATCHES = 256

export const liveTail = (source: LiveTailSource, fromSeq: bigint): Stream.Stream<ReplayedEvent, ReadError> =>
  Stream.unwrap(
    Effect.gen(function* () {
      // Subscribe before reading history, so nothing made durable in between is missed.
      const subscription = yield* PubSub.subscribe(source.published)
      source.subscribed(1)
      yield* Effect.addFinalizer(() => Effect.sync(() => source.subscribed(-1)))
      const historyEnd = source.lastDurableSeq()
      let next = fromSeq
      const history = source.read(fromSeq, historyEnd).pipe(
        Stream.map((event) => {
          next = event.seq + 1n
          return event
        }),
        Stream.onEnd(
          Effect.sync(() => {
            if (next <= historyEnd) next = historyEnd + 1n
          })
        )
      )
      const live = Stream.fromSubscription(subscription).pipe(
        Stream.flatMap((batch) => {
          const count = batch.records.byteLength / EVENT_RECORD_BYTES
          const lastSeq = batch.firstSeq + BigInt(count) - 1n
          if (lastSeq < next) return Stream.empty
          const gap = batch.firstSeq > next ? source.read(next, batch.firstSeq - 1n) : Stream.empty
          const from = batch.firstSeq > next ? batch.firstSeq : next
          next = lastSeq + 1n
          return Stream.concat(gap, Stream.fromArray(decode(batch, from)))
        })
      )
      // Shutdown ends the subscription and drops what it still buffered: catch up from disk.
      const rest = Stream.suspend(() => {
        const end = source.lastDurableSeq()
        return next <= end ? source.read(next, end) : Stream.empty
      })
      return Stream.concat(Stream.concat(history, live), rest)
    })
  )

const decode = (batch: PublishedBatch, fromSeq: bigint): Array<ReplayedEvent> => {
  const view = new DataView(batch.records.buffer, batch.records.byteOffset, batch.records.byteLength)
  const count = batch.records.byteLength / EVENT_RECORD_BYTES
  const events: Array<ReplayedEvent> = []
  for (let i = Number(fromSeq - batch.firstSeq); i < count; i++) {
    events.push({ seq: batch.firstSeq + BigInt(i), ...readEventRecord(view, i * EVENT_RECORD_BYTES) })
  }
  return events
}
