/**
 * A live tail that falls more than `TAIL_BUFFER_BATCHES` batches behind the writer loses the
 * oldest published batches (src/internal/reader/liveTail.ts), notices the gap by sequence number
 * and reads the missing range from disk: every event still arrives exactly once and in order.
 *
 * Method: the tail's consumer stops at the first event, so the tail holds its subscription and
 * pulls nothing more while 320 one-event batches become durable. A recording FileSystem counts
 * the opens of segment files; once the consumer resumes, no append is made, so every open from
 * then on is the tail reading from disk. The tail ends by taking the expected count, while the WAL
 * is still open and idle (at shutdown the tail also catches up from disk, which would prove
 * nothing here): the last batches, too, must arrive without a later batch to reveal their gap.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Option, Stream } from "effect"
import { type ReplayedEvent, WalHandle } from "../../src/index.ts"
import { TAIL_BUFFER_BATCHES } from "../../src/internal/reader/liveTail.ts"
import { FaultPlan } from "../support/FaultyFileSystem.ts"
import { eventFor, faultyLayer, plainEvent, storedFor, tempDir } from "../support/wal.ts"

/** Batches made durable while the tail is stopped: more than its buffer holds. */
const LAG_BATCHES = TAIL_BUFFER_BATCHES + 64
const TOTAL_EVENTS = 1 + LAG_BATCHES

describe("a lagging tail", () => {
  it.live(
    `more than ${TAIL_BUFFER_BATCHES} batches behind, it re-reads the gap from disk: each event once, in order`,
    () => {
      const plan = new FaultPlan()
      return Effect.gen(function* () {
        const dir = yield* tempDir
        // One event per batch, written at once: each append is one published batch.
        const [wal] = yield* WalHandle.open({ dir, groupCommit: "eager", batchMaxEvents: 1 })
        const firstSeen = yield* Deferred.make<void>()
        const resume = yield* Deferred.make<void>()
        const seen: Array<ReplayedEvent> = []
        const tail = yield* Effect.forkChild(
          wal.tail(1n).pipe(
            Stream.tap((event) =>
              event.seq === 1n
                ? Effect.andThen(Deferred.succeed(firstSeen, undefined), Deferred.await(resume))
                : Effect.void
            ),
            Stream.take(TOTAL_EVENTS),
            Stream.runForEach((event) => Effect.sync(() => seen.push(event)))
          )
        )
        assert.strictEqual(yield* wal.append(eventFor(0)), 1n)
        // Once it has seen event 1 the tail is subscribed (it subscribes before reading history).
        yield* Deferred.await(firstSeen)
        yield* Effect.forEach(
          Array.from({ length: LAG_BATCHES }, (_, i) => i + 1),
          (i) => wal.append(eventFor(i)),
          { concurrency: 16, discard: true }
        )
        const opensBeforeResume = plan.count("open", ".seg")
        yield* Deferred.succeed(resume, undefined)
        // Nothing is appended from here on: the tail must deliver what is durable without waiting
        // for a later batch to reveal the gap. The bound is for a failing run, not a timing claim.
        const finished = yield* Fiber.join(tail).pipe(Effect.timeoutOption("10 seconds"))
        assert.isTrue(
          Option.isSome(finished),
          `the tail stalled after ${seen.length} of ${TOTAL_EVENTS} events, up to seq ${seen.at(-1)?.seq}`
        )
        const opensByTail = plan.count("open", ".seg") - opensBeforeResume
        assert.isAbove(opensByTail, 0, "the tail delivered everything without reading from disk")
        // Every event once, in order. Appends ran concurrently: map each seq back to its event.
        assert.deepStrictEqual(
          seen.map((event) => event.seq),
          Array.from({ length: TOTAL_EVENTS }, (_, i) => BigInt(i + 1))
        )
        const replayed = yield* Stream.runCollect(wal.read(1n))
        assert.deepStrictEqual(seen.map(plainEvent), replayed.map(plainEvent))
        assert.deepStrictEqual(
          replayed.map(plainEvent).sort((a, b) => Number(a.timestamp - b.timestamp)),
          Array.from({ length: TOTAL_EVENTS }, (_, i) => storedFor(i))
        )
      }).pipe(Effect.scoped, Effect.provide(faultyLayer(plan)))
    }
  )
})
