/**
 * The writer at its edges (issue "no input that can hurt the log"): the end of the sequence
 * space, non-regular files where segments belong, and a defect inside the writer. Each ends in a
 * typed error or a correct result; nothing hangs and nothing reaches the disk wrongly.
 */
import { execFileSync } from "node:child_process"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Exit, FileSystem, Stream } from "effect"
import { ClosedError, CorruptionError, IoError, WalHandle, WalReader } from "../../src/index.ts"
import { encodeBatch } from "../../src/internal/format/batchCodec.ts"
import { encodeCheckpoint } from "../../src/internal/format/checkpointRecord.ts"
import { U64_MAX } from "../../src/internal/format/layout.ts"
import { segmentName } from "../../src/internal/format/segmentName.ts"
import { makeBreakableClock } from "../support/breakableClock.ts"
import { buildLog } from "../support/logs.ts"
import { eventFor, eventsFor, nodeLayer, tempDir } from "../support/wal.ts"

/** A log whose last event has sequence number 2^64 − 3. */
const logNearTheEnd = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const dir = yield* tempDir
  const firstSeq = U64_MAX - 4n
  yield* fs.writeFile(`${dir}/${segmentName(firstSeq)}`, encodeBatch(firstSeq, 1n, eventsFor(3)))
  yield* fs.writeFile(
    `${dir}/checkpoint.meta`,
    encodeCheckpoint({ sequence: firstSeq - 1n, timestampNanos: 1n })
  )
  return dir
})

const noHang = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.timeoutOrElse({ duration: "10 seconds", orElse: () => Effect.die(new Error("hung for 10 s")) })
  )

describe("the writer at its edges", () => {
  it.live(
    "no sequence number past 2^64 − 1 is ever given: appends that would pass it fail with ClosedError",
    () =>
      Effect.gen(function* () {
        const dir = yield* logNearTheEnd
        const [wal] = yield* WalHandle.open({ dir, groupCommit: "eager" })
        assert.strictEqual(yield* wal.nextSeq, U64_MAX - 1n)
        const tooMany = yield* Effect.flip(wal.appendAll(eventsFor(3, 100)))
        assert.instanceOf(tooMany, ClosedError)
        if (tooMany instanceof ClosedError) assert.strictEqual(tooMany.reason, "SequenceExhausted")
        assert.deepStrictEqual(yield* wal.appendAll(eventsFor(2, 200)), [U64_MAX - 1n, U64_MAX])
        const past = yield* Effect.flip(wal.append(eventFor(300)))
        assert.instanceOf(past, ClosedError)
        // The log reads back whole, ending exactly at the bound.
        const events = yield* WalReader.read(dir).pipe(
          Stream.runCollect,
          Effect.map((c) => Array.from(c))
        )
        assert.deepStrictEqual(events.at(-1)?.seq, U64_MAX)
        yield* wal.shutdown
        const [again] = yield* WalHandle.open({ dir })
        assert.instanceOf(yield* Effect.flip(again.append(eventFor(400))), ClosedError)
      }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live(
    "a FIFO or a directory named like the next segment fails the append with IoError; shutdown returns",
    () =>
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        for (const make of ["fifo", "directory"] as const) {
          const dir = yield* tempDir
          yield* Effect.scoped(
            Effect.gen(function* () {
              const [wal] = yield* WalHandle.open({
                dir,
                groupCommit: "eager",
                batchMaxEvents: 5,
                segmentMaxBytes: 2 * 169
              })
              yield* wal.appendAll(eventsFor(5))
              yield* wal.appendAll(eventsFor(5, 5))
              const next = `${dir}/${segmentName(11n)}`
              if (make === "fifo") execFileSync("mkfifo", [next])
              else yield* fs.makeDirectory(next)
              const failed = yield* noHang(Effect.flip(wal.appendAll(eventsFor(5, 10))))
              assert.instanceOf(failed, IoError, make)
              assert.instanceOf(yield* Effect.flip(wal.append(eventFor(99))), ClosedError)
              yield* noHang(wal.shutdown)
            })
          )
          // Reopening names the stray file instead of opening it (a FIFO would block the read).
          const reopened = yield* noHang(Effect.flip(Effect.scoped(WalHandle.open({ dir }))))
          assert.instanceOf(reopened, CorruptionError, make)
          if (reopened instanceof CorruptionError) assert.strictEqual(reopened.reason, "NotARegularFile")
          const scan = yield* WalReader.scan(dir)
          assert.strictEqual(scan.problem?.reason, "NotARegularFile", make)
        }
      }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live(
    "a defect inside the writer closes the WAL: the waiting append and every later call fail typed",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        yield* buildLog(dir, 1, 1)
        // A clock that breaks once the WAL is open: the writer reads it when it stages a batch.
        const broken = yield* makeBreakableClock
        yield* Effect.gen(function* () {
          const [wal] = yield* WalHandle.open({ dir, groupCommit: "eager" })
          broken.arm()
          const first = yield* noHang(Effect.exit(wal.append(eventFor(1))))
          assert.isTrue(Exit.isFailure(first))
          if (Exit.isFailure(first)) {
            const error = first.cause.reasons.find((r) => r._tag === "Fail")
            assert.isDefined(error, `a defect escaped: ${String(first.cause)}`)
          }
          const later = yield* noHang(Effect.flip(wal.append(eventFor(2))))
          assert.instanceOf(later, ClosedError)
          broken.disarm()
          yield* noHang(wal.shutdown)
        }).pipe(Effect.provideService(Clock.Clock, broken.clock), Effect.scoped)
      }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})
