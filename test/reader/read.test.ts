/**
 * Streaming reads: `read(fromSeq, toSeq)` from every boundary equals a reference, a 256 MiB log
 * reads in flat memory, `tail` sees every event exactly once and in order and ends on shutdown,
 * and a reader racing `truncateBefore` fails with a typed error.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Stream } from "effect"
import { isWalError, type ReplayedEvent, WalHandle, WalReader } from "../../src/index.ts"
import { encodeBatch } from "../../src/internal/format/batchCodec.ts"
import { segmentName } from "../../src/internal/format/segmentName.ts"
import { buildLog } from "../support/logs.ts"
import { eventsFor, nodeLayer, settle, storedFor, tempDir } from "../support/wal.ts"

const BATCH_BYTES = 64 + 5 * 21
const reference = (from: number, to: number): Array<ReplayedEvent> =>
  Array.from({ length: to - from + 1 }, (_, k) => ({ seq: BigInt(from + k), ...storedFor(from + k - 1) }))

describe("read", () => {
  it.live(
    "from every batch and segment boundary equals the reference, on the handle and the read-only reader",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        // 12 batches of 5 events, 3 batches per segment: 4 segments of 15 events.
        yield* buildLog(dir, 12, 5, { segmentMaxBytes: 3 * BATCH_BYTES })
        const [wal] = yield* WalHandle.open({
          dir,
          segmentMaxBytes: 3 * BATCH_BYTES,
          batchMaxEvents: 5,
          replay: "none"
        })
        assert.strictEqual(wal.replayed.length, 0)
        const boundaries = new Set<number>([1, 60])
        for (let b = 0; b < 12; b++) {
          boundaries.add(b * 5 + 1)
          boundaries.add(b * 5 + 5)
        }
        for (const from of boundaries) {
          const all = yield* Stream.runCollect(wal.read(BigInt(from)))
          assert.deepStrictEqual(all, reference(from, 60), `read(${from})`)
          for (const to of [from, Math.min(60, from + 4), Math.min(60, from + 15)]) {
            assert.deepStrictEqual(
              yield* Stream.runCollect(wal.read(BigInt(from), BigInt(to))),
              reference(from, to)
            )
          }
          const offline = yield* Stream.runCollect(WalReader.read(dir, { fromSeq: BigInt(from) }))
          assert.deepStrictEqual(offline, reference(from, 60))
        }
        // Past the end: nothing, and no error.
        assert.deepStrictEqual(yield* Stream.runCollect(wal.read(61n)), [])
      }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live(
    "reading a 256 MiB log keeps memory flat",
    () =>
      Effect.gen(function* () {
        const dir = join(yield* tempDir, "big")
        mkdirSync(dir)
        const eventsPerBatch = 1000
        const batchesPerSegment = 760 // ~16 MiB segments
        let seq = 1n
        const template = Array.from({ length: eventsPerBatch }, (_, i) => ({
          entityId: BigInt(i),
          signalType: 1,
          weight: 1,
          timestamp: BigInt(i)
        }))
        for (let s = 0; s < 16; s++) {
          const parts: Array<Uint8Array> = []
          const first = seq
          for (let b = 0; b < batchesPerSegment; b++) {
            parts.push(encodeBatch(seq, 1n, template))
            seq += BigInt(eventsPerBatch)
          }
          writeFileSync(join(dir, segmentName(first)), Buffer.concat(parts))
        }
        const total = seq - 1n
        forceGc()
        const baseline = process.memoryUsage()
        let peakBytes = 0
        let count = 0n
        let lastSeq = 0n
        yield* WalReader.read(dir).pipe(
          Stream.runForEach((event) =>
            Effect.sync(() => {
              count++
              lastSeq = event.seq
              if ((count & 0x3ffffn) === 0n) {
                forceGc()
                const now = process.memoryUsage()
                const grown = now.heapUsed - baseline.heapUsed + (now.arrayBuffers - baseline.arrayBuffers)
                peakBytes = Math.max(peakBytes, grown)
              }
            })
          )
        )
        assert.strictEqual(count, total)
        assert.strictEqual(lastSeq, total)
        // Reading 256 MiB holds about one 16 MiB segment and a chunk of events at a time.
        assert.isBelow(peakBytes, 48 * 1024 * 1024, `peak growth ${peakBytes} bytes`)
      }).pipe(Effect.scoped, Effect.provide(nodeLayer)),
    { timeout: 120_000 }
  )
})

/** The test workers run with --expose-gc (vitest.config.ts); without it this test cannot measure. */
const forceGc = (): void => {
  if (globalThis.gc === undefined) throw new Error("run with --expose-gc")
  globalThis.gc()
}

describe("tail", () => {
  it.live(
    "sees every event appended by 100 concurrent fibers exactly once and in order, and ends on shutdown",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const [wal] = yield* WalHandle.open({ dir, segmentMaxBytes: 8192 })
        yield* wal.appendAll(eventsFor(250))
        const tail = yield* Effect.forkChild(Stream.runCollect(wal.tail(100n)))
        yield* settle(20)
        yield* Effect.forEach(
          Array.from({ length: 100 }, (_, f) => f),
          (f) => Effect.forEach(eventsFor(30, 1000 + f * 30), (e) => wal.append(e), { discard: true }),
          { concurrency: "unbounded", discard: true }
        )
        yield* wal.shutdown
        const seen = yield* Fiber.join(tail)
        assert.strictEqual(seen.length, 250 - 99 + 3000)
        assert.deepStrictEqual(
          seen.map((event) => event.seq),
          Array.from({ length: seen.length }, (_, i) => BigInt(100 + i))
        )
      }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})

describe("reading while segments are removed", () => {
  it.live("a reader over segments deleted by truncateBefore fails with a typed error, never a defect", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* buildLog(dir, 40, 5, { segmentMaxBytes: 2 * BATCH_BYTES })
      const [wal] = yield* WalHandle.open({ dir, segmentMaxBytes: 2 * BATCH_BYTES, batchMaxEvents: 5 })
      yield* wal.checkpoint(200n)
      // Slow consumer: it is still in the early segments when they are deleted.
      const reader = yield* Effect.forkChild(
        wal.read(1n).pipe(
          Stream.mapEffect((e) => Effect.as(Effect.sleep("2 millis"), e)),
          Stream.runCollect
        )
      )
      yield* settle(15)
      assert.strictEqual(yield* wal.truncateBefore(200n), 19)
      const exit = yield* Fiber.await(reader)
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) {
        const reason = exit.cause.reasons[0]
        assert.strictEqual(reason?._tag, "Fail")
        assert.isTrue(reason?._tag === "Fail" && isWalError(reason.error))
      }
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})
