/**
 * `tidal-wal demo [DIR]`: the main job end to end — concurrent producers append signal events,
 * the WAL is closed and reopened, and the replay and recovery report are shown. Then the caller's
 * side of the contract: checkpoint what was "materialized" and truncate old segments.
 */
import { Clock, Effect } from "effect"
import { SignalType, WalHandle } from "../index.ts"
import type { SignalEvent } from "../SignalEvent.ts"
import { clearProgress, formatCount, line, progress } from "./output.ts"

const PRODUCERS = 8
const EVENTS_PER_PRODUCER = 5_000
const SIGNALS = [SignalType.view, SignalType.like, SignalType.skip, SignalType.completion]

export const runDemo = (dir: string) =>
  Effect.gen(function* () {
    const config = { dir, segmentMaxBytes: 256 * 1024 }
    yield* line(`tidal-wal demo in ${dir}`)
    const written = yield* Effect.scoped(
      Effect.gen(function* () {
        const [wal, replayed] = yield* WalHandle.open(config)
        yield* line(
          `opened: ${formatCount(replayed.length)} events replayed, next sequence number ${yield* wal.nextSeq}`
        )
        const startMillis = yield* Clock.currentTimeMillis
        const baseNanos = yield* Clock.currentTimeNanos
        let acknowledged = 0
        yield* Effect.forEach(
          Array.from({ length: PRODUCERS }, (_, producer) => producer),
          (producer) =>
            Effect.forEach(
              Array.from({ length: EVENTS_PER_PRODUCER }, (_, i) => i),
              (i) =>
                wal.append(signal(producer, i, baseNanos)).pipe(
                  Effect.tap(() => {
                    acknowledged++
                    return acknowledged % 1000 === 0
                      ? progress(`appending: ${formatCount(acknowledged)} acknowledged`)
                      : Effect.void
                  })
                ),
              { concurrency: 50, discard: true }
            ),
          { concurrency: "unbounded", discard: true }
        )
        yield* clearProgress
        const elapsedMillis = (yield* Clock.currentTimeMillis) - startMillis
        const segments = yield* wal.listSegments
        yield* line(
          `appended ${formatCount(acknowledged)} events from ${PRODUCERS} producers in ${elapsedMillis} ms; every one synced before acknowledged`
        )
        yield* line(`${segments.length} segment(s); closing`)
        return acknowledged
      })
    )
    yield* Effect.scoped(
      Effect.gen(function* () {
        const [wal, replayed] = yield* WalHandle.open(config)
        const report = wal.recovery
        yield* line(
          `reopened: replayed ${formatCount(replayed.length)} events (this run wrote ${formatCount(written)})`
        )
        const first = replayed.at(0)
        const last = replayed.at(-1)
        if (first !== undefined && last !== undefined) {
          yield* line(`  first: ${describe(first)}`)
          yield* line(`  last:  ${describe(last)}`)
        }
        yield* line(
          `recovery: ${report.segmentsScanned} segments, ${report.batchesScanned} batches scanned, ${report.bytesTruncated} bytes truncated, checkpoint ${report.checkpoint}, last seq ${report.lastSeq}, ${report.durationMillis} ms`
        )
        if (last !== undefined) {
          yield* wal.checkpoint(last.seq)
          const deleted = yield* wal.truncateBefore(last.seq + 1n)
          yield* line(
            `checkpointed at ${last.seq}; truncateBefore(${last.seq + 1n}) deleted ${deleted} segment(s)`
          )
        }
      })
    )
  })

// internals

const signal = (producer: number, i: number, baseNanos: bigint): SignalEvent => ({
  entityId: BigInt(producer * 1_000_003 + i),
  signalType: SIGNALS[i % SIGNALS.length] ?? SignalType.view,
  weight: (i % 10) / 10,
  timestamp: baseNanos + BigInt(producer * EVENTS_PER_PRODUCER + i)
})

const describe = (e: {
  seq: bigint
  entityId: bigint
  signalType: number
  weight: number
  timestamp: bigint
}) => `seq ${e.seq} entity ${e.entityId} type ${e.signalType} weight ${e.weight} at ${e.timestamp}`
