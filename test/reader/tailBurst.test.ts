/**
 * A live tail that falls behind a burst still delivers the burst's last event while the WAL is
 * idle afterwards. The tail's buffer slides: when it is full the oldest batch is dropped (the
 * tail re-reads it from disk). Dropping the newest instead (`PubSub.publishUnsafe` on a full
 * sliding PubSub) left the tail waiting for the next append to notice it was behind.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Stream } from "effect"
import { WalHandle } from "../../src/index.ts"
import { TAIL_BUFFER_BATCHES } from "../../src/internal/reader/liveTail.ts"
import { eventFor, nodeLayer, tempDir } from "../support/wal.ts"

const BATCHES = TAIL_BUFFER_BATCHES * 4

describe("live tail after a burst", () => {
  it.live(`a slow tail gets the last of ${BATCHES} one-event batches with no append after them`, () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const [wal] = yield* WalHandle.open({ dir, batchMaxEvents: 1, groupCommit: "eager" })
      // Slow: 4 ms an event, while the burst appends one event a sync — it outruns the tail by far.
      const tail = yield* Effect.forkChild(
        wal.tail(1n).pipe(
          Stream.tap(() => Effect.sleep("4 millis")),
          Stream.takeUntil((event) => event.seq === BigInt(BATCHES)),
          Stream.runCount
        )
      )
      yield* Effect.forEach(
        Array.from({ length: BATCHES }, (_, i) => eventFor(i)),
        (event) => wal.append(event),
        { concurrency: 1 }
      )
      // The WAL is idle from here on: the tail must finish on what it has.
      const count = yield* Fiber.join(tail).pipe(Effect.timeout("20 seconds"))
      assert.strictEqual(count, BATCHES)
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})
