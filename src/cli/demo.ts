/**
 * `tidal-wal demo [DIR]`: the main job end to end — concurrent producers append signal events,
 * the WAL is closed and reopened, and the replay and recovery report are shown. Then the caller's
 * side of the contract: checkpoint what was "materialized" and truncate old segments.
 *
 * Because the demo appends fake events and deletes segments, it only ever works in a directory it
 * owns: a new or empty one, which it marks with a `.tidal-wal-demo` file before writing anything
 * else, or one that already carries that mark. Any other directory is refused untouched — it may
 * hold a real WAL.
 */
import { Clock, Effect, FileSystem, Path } from "effect"
import { SignalType, WalHandle } from "../index.ts"
import type { SignalEvent } from "../SignalEvent.ts"
import { ProblemFound } from "./errors.ts"
import { clearProgress, formatCount, line, progress } from "./output.ts"
import { entryKind } from "./walDirectory.ts"

const PRODUCERS = 8
const EVENTS_PER_PRODUCER = 5_000
const SIGNALS = [SignalType.view, SignalType.like, SignalType.skip, SignalType.completion]

/** The file that marks a directory as the demo's own. */
export const DEMO_MARKER = ".tidal-wal-demo"

export const runDemo = (dir: string) =>
  Effect.gen(function* () {
    yield* claimDemoDirectory(dir)
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

/** Makes `dir` the demo's own, or refuses without touching it. */
const claimDemoDirectory = (dir: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const marker = path.join(dir, DEMO_MARKER)
    const kind = yield* entryKind("demo", fs, dir)
    if (kind === undefined) yield* fs.makeDirectory(dir, { recursive: true })
    else if (kind !== "Directory") return yield* refuse(dir, "it is not a directory")
    else {
      const names = yield* fs.readDirectory(dir)
      if (names.includes(DEMO_MARKER)) return
      if (names.length > 0) {
        return yield* refuse(dir, `it is not empty and has no ${DEMO_MARKER} file, so demo did not make it`)
      }
    }
    // The mark comes first: if the demo dies right after, the directory is still recognised.
    yield* fs.writeFileString(
      marker,
      "Made by `tidal-wal demo`, which appends fake events here and deletes old segments.\n"
    )
  })

const refuse = (dir: string, why: string) =>
  new ProblemFound({
    message: `demo: refusing to use ${dir}: ${why}. The demo writes fake events and deletes segments; give it a new or empty directory.`
  })

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
