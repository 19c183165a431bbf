/**
 * A defect inside the writer loop (a bug, planted here with a clock that throws) must leave no
 * caller waiting: not one whose batch is still syncing when the WAL then shuts down, and not one
 * the collector had taken from the queue for the next group.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Exit, Fiber, Option } from "effect"
import { WalHandle } from "../../src/index.ts"
import { makeBreakableClock } from "../support/breakableClock.ts"
import { heldSyncLayer, SyncGate } from "../support/heldSyncFileSystem.ts"
import { eventFor, nodeLayer, tempDir } from "../support/wal.ts"

/** The append's outcome, or `undefined` if its caller was still waiting after 2 s. */
const answerOf = <A, E>(fiber: Fiber.Fiber<Exit.Exit<A, E>>) =>
  Effect.map(Effect.timeoutOption(Fiber.join(fiber), "2 seconds"), Option.getOrUndefined)

describe("writer: a defect in the loop", () => {
  it.live("a batch still syncing when the writer dies and the WAL shuts down: its caller is answered", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const gate = new SyncGate((path) => path.endsWith(".seg"))
      const broken = yield* makeBreakableClock
      const answer = yield* Effect.gen(function* () {
        const [wal] = yield* WalHandle.open({ dir, groupCommit: "eager", batchMaxEvents: 1 })
        const first = yield* Effect.forkDetach(Effect.exit(wal.append(eventFor(1))))
        yield* gate.waitUntil(() => gate.held.length === 1)
        broken.arm()
        const second = yield* Effect.exit(wal.append(eventFor(2)))
        assert.isTrue(Exit.isFailure(second), "the append that met the defect succeeded")
        broken.disarm()
        yield* wal.shutdown
        yield* gate.releaseAll()
        return yield* answerOf(first)
      }).pipe(
        Effect.provideService(Clock.Clock, broken.clock),
        Effect.scoped,
        Effect.provide(heldSyncLayer(gate))
      )
      assert.isDefined(answer, "the caller of the batch in flight was never answered")
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("requests the collector carried to the next group are answered too", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const broken = yield* makeBreakableClock
      const answers = yield* Effect.gen(function* () {
        // Five single appends, two events a batch: the collector cuts the group at a whole
        // batch and carries the rest to the next group.
        const [wal] = yield* WalHandle.open({ dir, batchMaxEvents: 2 })
        broken.arm()
        const fibers = yield* Effect.forEach([1, 2, 3, 4, 5], (i) =>
          Effect.forkDetach(Effect.exit(wal.append(eventFor(i))))
        )
        const out = yield* Effect.forEach(fibers, answerOf)
        broken.disarm()
        return out
      }).pipe(Effect.provideService(Clock.Clock, broken.clock), Effect.scoped)
      const tags = answers.map((answer) => (answer === undefined ? "waiting" : answer._tag))
      // All five fail (the WAL closed at the defect); none is left waiting.
      assert.deepStrictEqual(tags, ["Failure", "Failure", "Failure", "Failure", "Failure"])
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})
