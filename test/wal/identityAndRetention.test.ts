/**
 * The directory's identity (`wal-id`) and retention holds: an id that survives reopen and differs
 * between directories, a damaged id file refused, and `truncateBefore` never deleting a segment
 * an open hold still needs.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem, Path } from "effect"
import { CheckpointError, CorruptionError, WalHandle } from "../../src/index.ts"
import { eventsFor, nodeLayer, tempDir } from "../support/wal.ts"

const BATCH_BYTES = 64 + 5 * 21
const config = (dir: string) => ({
  dir,
  segmentMaxBytes: BATCH_BYTES,
  batchMaxEvents: 5,
  groupCommit: "eager" as const
})

const walIdOf = (dir: string) => Effect.scoped(Effect.map(WalHandle.open(config(dir)), ([wal]) => wal.walId))

describe("wal-id", () => {
  it.live("is 32 hex digits, the same on every open, different for another directory", () =>
    Effect.gen(function* () {
      const first = yield* tempDir
      const second = yield* tempDir
      const id = yield* walIdOf(first)
      assert.match(id, /^[0-9a-f]{32}$/)
      assert.strictEqual(yield* walIdOf(first), id)
      assert.notStrictEqual(yield* walIdOf(second), id)
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      assert.strictEqual(yield* fs.readFileString(path.join(first, "wal-id")), `${id}\n`)
    }).pipe(Effect.provide(nodeLayer))
  )

  it.live("a damaged wal-id is corruption, and is left as it was", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* walIdOf(dir)
      const fs = yield* FileSystem.FileSystem
      const file = (yield* Path.Path).join(dir, "wal-id")
      yield* fs.writeFileString(file, "not an id\n")
      const error = yield* Effect.flip(walIdOf(dir))
      assert.instanceOf(error, CorruptionError)
      if (error instanceof CorruptionError) assert.strictEqual(error.reason, "BadWalId")
      assert.strictEqual(yield* fs.readFileString(file), "not an id\n")
    }).pipe(Effect.provide(nodeLayer))
  )
})

describe("holdRetention", () => {
  it.live("truncateBefore keeps every segment from an open hold on; after release it deletes them", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* Effect.scoped(
        Effect.gen(function* () {
          const [wal] = yield* WalHandle.open(config(dir))
          // One batch of 5 events a segment: segments start at 1, 6, 11, 16, 21.
          for (let i = 0; i < 5; i++) yield* wal.appendAll(eventsFor(5, i * 5))
          yield* wal.checkpoint(25n)
          const released = yield* Effect.scoped(
            Effect.gen(function* () {
              const hold = yield* wal.holdRetention(7n)
              // Events 7..25 are held: the segment starting at 6 must stay.
              assert.strictEqual(yield* wal.truncateBefore(26n), 1)
              assert.deepStrictEqual(firstSeqs(yield* wal.listSegments), [6n, 11n, 16n, 21n])
              yield* hold.advanceTo(3n)
              assert.strictEqual(yield* hold.fromSeq, 7n, "a hold never moves back")
              yield* hold.advanceTo(17n)
              assert.strictEqual(yield* wal.truncateBefore(26n), 2)
              return firstSeqs(yield* wal.listSegments)
            })
          )
          assert.deepStrictEqual(released, [16n, 21n])
          assert.strictEqual(yield* wal.truncateBefore(26n), 1)
          assert.deepStrictEqual(firstSeqs(yield* wal.listSegments), [21n])
        })
      )
    }).pipe(Effect.provide(nodeLayer))
  )

  it.live("the lowest of several holds wins; a bad fromSeq is a CheckpointError", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* Effect.scoped(
        Effect.gen(function* () {
          const [wal] = yield* WalHandle.open(config(dir))
          for (let i = 0; i < 4; i++) yield* wal.appendAll(eventsFor(5, i * 5))
          yield* wal.checkpoint(20n)
          yield* wal.holdRetention(12n)
          yield* wal.holdRetention(6n)
          assert.strictEqual(yield* wal.truncateBefore(21n), 1)
          const bad = yield* Effect.flip(wal.holdRetention(-1n))
          assert.instanceOf(bad, CheckpointError)
        })
      )
    }).pipe(Effect.provide(nodeLayer))
  )
})

const firstSeqs = (segments: ReadonlyArray<{ readonly firstSeq: bigint }>) =>
  segments.map((segment) => segment.firstSeq)
