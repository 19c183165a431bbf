/**
 * Writes batches (SPEC §3 "Append and group commit"): drop duplicates, assign sequence numbers,
 * encode, checksum, write, exactly one sync — and only then complete the appends.
 *
 * Pipelined: up to `MAX_BATCHES_IN_FLIGHT` batches are on their way to disk at once. Writes go
 * out strictly in order (each waits for the previous write), but a batch's sync may start while
 * earlier syncs are still running — the disk then commits them together, which is how the WAL
 * keeps up with a plain write+sync loop while the JS thread is busy with the appenders. Batches
 * are completed strictly in order, and a batch is acknowledged only if it and every batch before
 * it were synced: after a failed write or sync, no later batch is acknowledged, whatever its own
 * sync said. Dedup keys enter the window only once their batch is acknowledged; an event repeating
 * one of a batch still in flight is answered 0n only once that batch is.
 */
import { Cause, Clock, Deferred, Effect, Exit } from "effect"
import type { SignalEvent } from "../../SignalEvent.ts"
import { type ClosedError, IoError } from "../../WalError.ts"
import type { DedupWindowShape } from "../dedup/DedupWindow.ts"
import { dedupKeyInto, KEY_WORDS } from "../dedup/dedupKey.ts"
import { PendingKeys } from "../dedup/PendingKeys.ts"
import { batchSizeBytes, sealBatch } from "../format/batchCodec.ts"
import { writeEventRecord } from "../format/eventRecord.ts"
import { BATCH_HEADER_BYTES, EVENT_RECORD_BYTES } from "../format/layout.ts"
import type { SegmentAppender } from "../segment/SegmentAppender.ts"
import { type AppendMany, type AppendOne, reject, settle } from "./requests.ts"

/** Written in this batch: gets its sequence number. */
const WRITTEN = 0
/** A duplicate of an event already durable: `0n` whatever happens to this batch. */
const DUPLICATE_OF_DURABLE = 1
/** A duplicate of an event in this batch or the one in flight: `0n` only if this batch is durable. */
const DUPLICATE_PENDING = 2

export interface DurableBatch {
  readonly firstSeq: bigint
  readonly batchTimestampNanos: bigint
  /** The batch's records; valid only until the buffer is reused for a later batch. */
  readonly records: Uint8Array
}

export interface BatchWriter {
  /** Adds `event`, event `index` of `owner` (any index for `AppendOne`), to the batch being formed. */
  readonly add: (owner: AppendOne | AppendMany, index: number, event: SignalEvent) => void
  readonly size: () => number
  /** Stages the batch formed so far; its I/O starts as soon as the batch in flight is durable. */
  readonly flush: Effect.Effect<void>
  /** Waits until no batch is staged or in flight. */
  readonly drain: Effect.Effect<void>
}

export interface BatchWriterOptions {
  readonly batchMaxEvents: number
  readonly appender: SegmentAppender
  readonly dedup: DedupWindowShape
  /** Reserves `count` sequence numbers and returns the first. */
  readonly reserveSeqs: (count: number) => bigint
  /** How many sequence numbers are left before 2^64 − 1 is passed. */
  readonly seqsRemaining: () => bigint
  /** The error for appends that would pass the last sequence number. */
  readonly sequenceExhausted: () => ClosedError
  /** Called for every completed batch, also one that wrote nothing (all duplicates). */
  readonly onDurable: (
    batch: DurableBatch,
    eventsWritten: number,
    duplicates: number,
    syncMillis: number
  ) => void
  /** Called with each append or appendAll chunk a batch completes, and the time it completed. */
  readonly onCompleted: (request: AppendOne | AppendMany, nowMillis: number) => void
  /** The error for appends staged behind a batch that failed. */
  readonly closedError: () => ClosedError
  /** Closes the WAL for writing; runs as soon as a batch's write or sync fails. */
  readonly onIoFailure: (error: IoError) => Effect.Effect<void>
}

/** One of the batch buffers, with everything the batch needs until it settles. */
interface Staging {
  readonly buffer: Uint8Array
  readonly view: DataView
  readonly keys: Uint32Array
  readonly owners: Array<AppendOne | AppendMany | undefined>
  readonly events: Array<SignalEvent | undefined>
  readonly ownerIndexes: Int32Array
  readonly outcomes: Uint8Array
  readonly seqOffsets: Int32Array
  count: number
  written: number
  /** Numbers batches in the order they are staged, from 1: the tag of their pending keys. */
  batchNumber: number
  firstSeq: bigint
  timestampNanos: bigint
  sizeBytes: number
}

/** How many batches may be written and not yet synced at once (8 measured best of 2, 4, 8, 16 here). */
export const MAX_BATCHES_IN_FLIGHT = 8

/** A batch on its way to disk: written (in order), then synced; `exit` once its sync finished. */
interface Flight {
  readonly staging: Staging
  exit: Exit.Exit<void, IoError> | undefined
  syncMillis: number
}

export const makeBatchWriter = (options: BatchWriterOptions): BatchWriter => {
  const { batchMaxEvents, appender, dedup } = options
  const stagings = Array.from({ length: MAX_BATCHES_IN_FLIGHT + 1 }, () => makeStaging(batchMaxEvents))
  let current = stagings[0] as Staging
  const flights: Array<Flight> = []
  /** Completed when the last launched batch's write returned: the next write waits for it. */
  let previousWrite: Deferred.Deferred<void> | undefined
  let failure: IoError | undefined
  /** Set by a failed write: later writes must not land behind a hole. */
  let writeFailure: IoError | undefined
  let waiter: Deferred.Deferred<void> | undefined
  /** Keys of the batch being staged and those in flight: repeats of them are duplicates too. */
  const pending = new PendingKeys((MAX_BATCHES_IN_FLIGHT + 1) * batchMaxEvents)
  let nextBatchNumber = 1
  /** 0n..(batchMaxEvents - 1)n, made once: a sequence number then costs one BigInt, not two. */
  const offsetBigInts = Array.from({ length: batchMaxEvents }, (_, i) => BigInt(i))

  const wake = (): void => {
    const w = waiter
    waiter = undefined
    if (w !== undefined) Deferred.doneUnsafe(w, Exit.void)
  }

  const waitUntil = (condition: () => boolean): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (condition()) return Effect.void
      const w = Deferred.makeUnsafe<void>()
      waiter = w
      return Effect.andThen(Deferred.await(w), waitUntil(condition))
    })

  const add = (owner: AppendOne | AppendMany, index: number, event: SignalEvent): void => {
    const slot = current.count++
    current.owners[slot] = owner
    current.events[slot] = event
    current.ownerIndexes[slot] = index
  }

  const flush: Effect.Effect<void> = Effect.suspend(() => {
    if (current.count === 0) return Effect.void
    return Effect.andThen(
      waitUntil(() => flights.length < MAX_BATCHES_IN_FLIGHT),
      Effect.flatMap(Clock.currentTimeNanos, (nowNanos) => {
        const staging = current
        current = stagings.find((s) => s !== staging && !flights.some((f) => f.staging === s)) ?? staging
        if (failure !== undefined) {
          forEachOwner(staging, (owner) => reject(owner, options.closedError()))
          return Effect.void
        }
        // Checked before any dedup key is claimed, on the count before dedup: a batch that might
        // not fit is refused whole, and leaves no trace that could make a retry a "duplicate".
        if (BigInt(staging.count) > options.seqsRemaining()) {
          forEachOwner(staging, (owner) => reject(owner, options.sequenceExhausted()))
          return Effect.void
        }
        stage(staging, nowNanos)
        return launch(staging)
      })
    )
  })

  const drain = waitUntil(() => flights.length === 0)

  /** Dedup, sequence numbers and encoding: CPU work, done while earlier batches sync. */
  const stage = (staging: Staging, nowNanos: bigint): void => {
    dedup.advanceTo(nowNanos)
    if (pending.isFull()) rebuildPending()
    const batch = nextBatchNumber++
    const liveFrom = flights[0]?.staging.batchNumber ?? batch
    staging.batchNumber = batch
    staging.timestampNanos = nowNanos
    const { buffer, view, keys, outcomes, seqOffsets } = staging
    const count = staging.count
    // Encode and hash everything first, then classify: the slots of all the batch's keys are
    // fetched from the (large) dedup tables at once, overlapping their cache misses.
    for (let slot = 0; slot < count; slot++) {
      const offset = BATCH_HEADER_BYTES + slot * EVENT_RECORD_BYTES
      writeEventRecord(view, offset, staging.events[slot] as SignalEvent)
      dedupKeyInto(buffer, offset, keys, slot)
    }
    dedup.prefetch(keys, count)
    let written = 0
    for (let slot = 0; slot < count; slot++) {
      if (dedup.contains(keys, slot)) {
        outcomes[slot] = DUPLICATE_OF_DURABLE
      } else if (!pending.claim(keys, slot, batch, liveFrom)) {
        outcomes[slot] = DUPLICATE_PENDING
      } else {
        outcomes[slot] = WRITTEN
        seqOffsets[slot] = written
        if (written !== slot) {
          // A duplicate before it left a gap: close it, record and key.
          const from = BATCH_HEADER_BYTES + slot * EVENT_RECORD_BYTES
          buffer.copyWithin(
            BATCH_HEADER_BYTES + written * EVENT_RECORD_BYTES,
            from,
            from + EVENT_RECORD_BYTES
          )
          keys.copyWithin(written * KEY_WORDS, slot * KEY_WORDS, (slot + 1) * KEY_WORDS)
        }
        written++
      }
    }
    staging.written = written
    staging.firstSeq = written > 0 ? options.reserveSeqs(written) : 0n
    staging.sizeBytes = written > 0 ? sealBatch(buffer, staging.firstSeq, nowNanos, written) : 0
  }

  /** Drops the stale keys of completed batches: only the batches still in flight are re-entered. */
  const rebuildPending = (): void => {
    pending.clear()
    for (const flight of flights) {
      const { keys, written, batchNumber } = flight.staging
      for (let i = 0; i < written; i++) pending.claim(keys, i, batchNumber, batchNumber)
    }
  }

  /** Puts a staged batch on its way: its write waits for the previous write, its sync does not wait. */
  const launch = (staging: Staging): Effect.Effect<void> => {
    const flight: Flight = { staging, exit: undefined, syncMillis: 0 }
    flights.push(flight)
    if (staging.written === 0) {
      // Nothing to write (all duplicates): it still completes in order, behind the batches in flight.
      flight.exit = Exit.void
      return completeInOrder
    }
    const waitFor = previousWrite
    const writeDone = Deferred.makeUnsafe<void>()
    previousWrite = writeDone
    const lastSeq = staging.firstSeq + BigInt(staging.written - 1)
    const io = Effect.gen(function* () {
      if (waitFor !== undefined) yield* Deferred.await(waitFor)
      const stop = failure ?? writeFailure
      if (stop !== undefined) return yield* Effect.fail(stop)
      const sync = yield* appender
        .writeBatch(staging.buffer.subarray(0, staging.sizeBytes), staging.firstSeq, lastSeq)
        .pipe(
          Effect.tapError((error) =>
            Effect.sync(() => {
              writeFailure ??= error
            })
          )
        )
      Deferred.doneUnsafe(writeDone, Exit.void)
      const syncStart = performance.now()
      yield* sync
      flight.syncMillis = performance.now() - syncStart
    }).pipe(
      Effect.withSpan(
        "tidal-wal.batch",
        { attributes: { "wal.first_seq": String(staging.firstSeq), "wal.events": staging.written } },
        // A stack trace per batch costs more than the span; the span's name says where it is.
        { captureStackTrace: false }
      ),
      Effect.ensuring(Effect.sync(() => Deferred.doneUnsafe(writeDone, Exit.void))),
      Effect.exit,
      Effect.flatMap((exit) => {
        flight.exit = exit
        return completeInOrder
      })
    )
    return Effect.asVoid(Effect.forkDetach(io, { startImmediately: true }))
  }

  /** Completes finished batches from the oldest on, stopping at the first still in flight. */
  const completeInOrder: Effect.Effect<void> = Effect.suspend(() => {
    let firstFailure: IoError | undefined
    while (flights.length > 0) {
      const head = flights[0] as Flight
      if (head.exit === undefined) break
      flights.shift()
      const exitError = head.exit._tag === "Failure" ? asIoError(head.exit.cause) : undefined
      if (failure === undefined && exitError !== undefined) {
        failure = exitError
        firstFailure = exitError
      }
      if (failure === undefined) succeeded(head.staging, head.syncMillis)
      else failAll(head.staging, failure)
    }
    wake()
    return firstFailure === undefined ? Effect.void : options.onIoFailure(firstFailure)
  })

  const succeeded = (staging: Staging, syncMillis: number): void => {
    dedup.remember(staging.keys, staging.written)
    options.onDurable(
      {
        firstSeq: staging.firstSeq,
        batchTimestampNanos: staging.timestampNanos,
        records: staging.buffer.subarray(BATCH_HEADER_BYTES, staging.sizeBytes)
      },
      staging.written,
      staging.count - staging.written,
      syncMillis
    )
    settleAll(staging)
  }

  const settleAll = (staging: Staging): void => {
    const nowMillis = performance.now()
    const completed = (request: AppendOne | AppendMany) => options.onCompleted(request, nowMillis)
    forEachOwner(staging, (owner, index, slot) => {
      const seq =
        staging.outcomes[slot] === WRITTEN
          ? staging.firstSeq + (offsetBigInts[staging.seqOffsets[slot] as number] as bigint)
          : 0n
      settle(owner, index, seq, completed)
    })
  }

  const failAll = (staging: Staging, error: IoError): void => {
    const nowMillis = performance.now()
    const completed = (request: AppendOne | AppendMany) => options.onCompleted(request, nowMillis)
    forEachOwner(staging, (owner, index, slot) => {
      if (staging.outcomes[slot] === DUPLICATE_OF_DURABLE) settle(owner, index, 0n, completed)
      else reject(owner, error)
    })
  }

  return { add, size: () => current.count, flush, drain }
}

// internals

const makeStaging = (batchMaxEvents: number): Staging => {
  const buffer = new Uint8Array(batchSizeBytes(batchMaxEvents))
  return {
    buffer,
    view: new DataView(buffer.buffer),
    keys: new Uint32Array(batchMaxEvents * KEY_WORDS),
    owners: new Array(batchMaxEvents).fill(undefined),
    events: new Array(batchMaxEvents).fill(undefined),
    ownerIndexes: new Int32Array(batchMaxEvents),
    outcomes: new Uint8Array(batchMaxEvents),
    seqOffsets: new Int32Array(batchMaxEvents),
    count: 0,
    written: 0,
    batchNumber: 0,
    firstSeq: 0n,
    timestampNanos: 0n,
    sizeBytes: 0
  }
}

/** Calls `f` for each slot's owner, then empties the staging for reuse. */
const forEachOwner = (
  staging: Staging,
  f: (owner: AppendOne | AppendMany, index: number, slot: number) => void
): void => {
  const count = staging.count
  for (let slot = 0; slot < count; slot++) {
    const owner = staging.owners[slot]
    if (owner !== undefined) f(owner, staging.ownerIndexes[slot] as number, slot)
  }
  staging.owners.fill(undefined, 0, count)
  staging.events.fill(undefined, 0, count)
  staging.count = 0
}

/** The batch's IoError; a defect in the I/O path is reported as one too, never left unanswered. */
const asIoError = (cause: Cause.Cause<IoError>): IoError => {
  const error = Cause.findErrorOption(cause)
  return error._tag === "Some"
    ? error.value
    : new IoError({ operation: "write", path: "(writer)", cause: Cause.squash(cause) })
}
