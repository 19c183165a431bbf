/**
 * `appendOutcome` / `appendAllOutcomes`: the answer as a type, so a duplicate can never be passed
 * on as a sequence number (the README example's `checkpoint(0n)` on a second run).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { AppendOutcome, WalHandle } from "../../src/index.ts"
import { eventFor, nodeLayer, tempDir } from "../support/wal.ts"

describe("appendOutcome", () => {
  it.live(
    "Written with the seq, then Duplicate for the same event; checkpointing only what was written",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const run = Effect.scoped(
          Effect.gen(function* () {
            const [wal] = yield* WalHandle.open({ dir, groupCommit: "eager" })
            const outcome = yield* wal.appendOutcome(eventFor(1))
            if (AppendOutcome.$is("Written")(outcome)) yield* wal.checkpoint(outcome.seq)
            return outcome
          })
        )
        const first = yield* run
        assert.deepStrictEqual(first, AppendOutcome.Written({ seq: 1n }))
        // A second run inside the dedup window: a duplicate, and nothing to checkpoint — no error.
        const second = yield* run
        assert.isTrue(AppendOutcome.$is("Duplicate")(second))
      }).pipe(Effect.provide(nodeLayer))
  )

  it.live("appendAllOutcomes answers each event in order, repeats within the call included", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const outcomes = yield* Effect.scoped(
        Effect.flatMap(WalHandle.open({ dir, groupCommit: "eager" }), ([wal]) =>
          wal.appendAllOutcomes([eventFor(1), eventFor(2), eventFor(1), eventFor(3)])
        )
      )
      assert.deepStrictEqual(
        outcomes.map((outcome) =>
          AppendOutcome.$match(outcome, { Written: ({ seq }) => `w${seq}`, Duplicate: () => "dup" })
        ),
        ["w1", "w2", "dup", "w3"]
      )
    }).pipe(Effect.provide(nodeLayer))
  )
})
