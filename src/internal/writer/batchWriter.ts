/**
 * Writes batches (SPEC §3 "Append and group commit"): drop duplicates, assign sequence numbers,
 * encode, checksum, write, exactly one sync — and only then complete the appends.
 *
 * Pipelined: while one batch's write and sync are in flight, the next batch is staged (dedup,
 * sequence numbers, encoding) in another buffer. When a sync completes, the staged batch's write
 * is issued first and the finished batch's appends are completed after, so the disk is not idle
 * while the appenders it just released run. There is never more than one batch on its way to
 * disk, and a batch is acknowledged only if every batch before it was. Dedup keys enter the
 * window only after the sync succeeded; an event repeating one of the batch in flight is
 * acknowledged with 0n only once that batch is durable.
 */
import { Cause, Clock, Deferred, Effect, Exit } from "effect"
import type { SignalEvent } from "../../SignalEvent.ts"
import type { ClosedError, IoError } from "../../WalError.ts"
import type { DedupWindowShape } from "../dedup/DedupWindow.ts"
import { dedupKeyInto, KEY_WORDS } from "../dedup/dedupKey.ts"
import { KeyTable } from "../dedup/KeyTable.ts"
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
  readonly onDurable: (batch: DurableBatch, eventsWritten: number, duplicates: number) => void
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
  readonly batchKeys: KeyTable
  readonly owners: Array<AppendOne | AppendMany | undefined>
  readonly events: Array<SignalEvent | undefined>
  readonly ownerIndexes: Int32Array
  readonly outcomes: Uint8Array
  readonly seqOffsets: Int32Array
  count: number
  written: number
  firstSeq: bigint
  timestampNanos: bigint
  sizeBytes: number
}

/** Forming, staged (waiting for the disk), in flight. */
const STAGINGS = 3

export const makeBatchWriter = (options: BatchWriterOptions): BatchWriter => {
  const { batchMaxEvents, appender, dedup } = options
  const stagings = Array.from({ length: STAGINGS }, () => makeStaging(batchMaxEvents))
  let current = stagings[0] as Staging
  let staged: Staging | undefined
  let inFlight: Staging | undefined
  let failure: IoError | undefined
  let waiter: Deferred.Deferred<void> | undefined

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
      waitUntil(() => staged === undefined),
      Effect.flatMap(Clock.currentTimeNanos, (nowNanos) => {
        const staging = current
        current = stagings.find((s) => s !== staging && s !== inFlight) ?? staging
        if (failure !== undefined) {
          forEachOwner(staging, (owner) => reject(owner, options.closedError()))
          return Effect.void
        }
        stage(staging, nowNanos, inFlight)
        if (inFlight !== undefined) {
          staged = staging
          return Effect.void
        }
        return launch(staging)
      })
    )
  })

  const drain = waitUntil(() => staged === undefined && inFlight === undefined)

  /** Dedup, sequence numbers and encoding: CPU work, done while the previous batch syncs. */
  const stage = (staging: Staging, nowNanos: bigint, previous: Staging | undefined): void => {
    dedup.advanceTo(nowNanos)
    staging.batchKeys.clear()
    staging.timestampNanos = nowNanos
    let written = 0
    for (let slot = 0; slot < staging.count; slot++) {
      const event = staging.events[slot]
      if (event === undefined) continue
      const offset = BATCH_HEADER_BYTES + written * EVENT_RECORD_BYTES
      writeEventRecord(staging.view, offset, event)
      dedupKeyInto(staging.buffer.subarray(offset, offset + EVENT_RECORD_BYTES), staging.keys, written)
      if (dedup.contains(staging.keys, written)) {
        staging.outcomes[slot] = DUPLICATE_OF_DURABLE
      } else if (
        previous?.batchKeys.hasKey(staging.keys, written) === true ||
        !staging.batchKeys.addKey(staging.keys, written)
      ) {
        staging.outcomes[slot] = DUPLICATE_PENDING
      } else {
        staging.outcomes[slot] = WRITTEN
        staging.seqOffsets[slot] = written
        written++
      }
    }
    staging.written = written
    staging.firstSeq = written > 0 ? options.reserveSeqs(written) : 0n
    staging.sizeBytes = written > 0 ? sealBatch(staging.buffer, staging.firstSeq, nowNanos, written) : 0
  }

  /** Starts a staged batch's write and sync on a fiber of its own; returns once it is issued. */
  const launch = (staging: Staging): Effect.Effect<void> => {
    if (staging.written === 0) {
      settleAll(staging)
      wake()
      return Effect.void
    }
    inFlight = staging
    const lastSeq = staging.firstSeq + BigInt(staging.written - 1)
    const io = appender.appendBatch(staging.buffer.subarray(0, staging.sizeBytes), staging.firstSeq, lastSeq)
    return Effect.asVoid(
      Effect.forkDetach(
        Effect.flatMap(Effect.exit(io), (exit) =>
          exit._tag === "Success" ? succeeded(staging) : failed(staging, exit)
        ),
        { startImmediately: true }
      )
    )
  }

  const succeeded = (staging: Staging): Effect.Effect<void> => {
    dedup.remember(staging.keys, staging.written)
    options.onDurable(
      {
        firstSeq: staging.firstSeq,
        batchTimestampNanos: staging.timestampNanos,
        records: staging.buffer.subarray(BATCH_HEADER_BYTES, staging.sizeBytes)
      },
      staging.written,
      staging.count - staging.written
    )
    inFlight = undefined
    const following = staged
    staged = undefined
    // Issue the next write before completing this batch's appends (see the module comment).
    const next = following === undefined ? Effect.void : launch(following)
    return Effect.andThen(
      next,
      Effect.sync(() => {
        settleAll(staging)
        wake()
      })
    )
  }

  const failed = (staging: Staging, exit: Exit.Failure<void, IoError>): Effect.Effect<void> => {
    const error = Cause.findErrorOption(exit.cause)
    const ioError = error._tag === "Some" ? error.value : undefined
    inFlight = undefined
    const following = staged
    staged = undefined
    failure = ioError ?? failure
    return Effect.andThen(
      ioError === undefined ? Effect.void : options.onIoFailure(ioError),
      Effect.sync(() => {
        if (ioError === undefined) rejectStaged(staging)
        else failAll(staging, ioError)
        if (following !== undefined) rejectStaged(following)
        wake()
      })
    )
  }

  const settleAll = (staging: Staging): void =>
    forEachOwner(staging, (owner, index, slot) => {
      const seq =
        staging.outcomes[slot] === WRITTEN
          ? staging.firstSeq + BigInt(staging.seqOffsets[slot] as number)
          : 0n
      settle(owner, index, seq)
    })

  const failAll = (staging: Staging, error: IoError): void =>
    forEachOwner(staging, (owner, index, slot) => {
      if (staging.outcomes[slot] === DUPLICATE_OF_DURABLE) settle(owner, index, 0n)
      else reject(owner, error)
    })

  /** A staged batch behind a failed one never reaches the disk: its appends are closed out. */
  const rejectStaged = (staging: Staging): void =>
    forEachOwner(staging, (owner, index, slot) => {
      if (staging.outcomes[slot] === DUPLICATE_OF_DURABLE) settle(owner, index, 0n)
      else reject(owner, options.closedError())
    })

  return { add, size: () => current.count, flush, drain }
}

// internals

const makeStaging = (batchMaxEvents: number): Staging => {
  const buffer = new Uint8Array(batchSizeBytes(batchMaxEvents))
  return {
    buffer,
    view: new DataView(buffer.buffer),
    keys: new Uint32Array(batchMaxEvents * KEY_WORDS),
    batchKeys: new KeyTable(batchMaxEvents * 2),
    owners: new Array(batchMaxEvents).fill(undefined),
    events: new Array(batchMaxEvents).fill(undefined),
    ownerIndexes: new Int32Array(batchMaxEvents),
    outcomes: new Uint8Array(batchMaxEvents),
    seqOffsets: new Int32Array(batchMaxEvents),
    count: 0,
    written: 0,
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
