/**
 * SPEC §3 "Checkpoint and truncation" and SPEC §2 `checkpoint.meta`: the CheckpointError rules,
 * replay after a checkpoint, truncateBefore's bounds and count, an atomic checkpoint under faults
 * and under real SIGKILLs (at moments from a printed seed; TIDAL_WAL_CRASH_SEED reruns them), and
 * a damaged checkpoint failing open.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem, Path } from "effect"
import { CheckpointError, CorruptionError, IoError, WalHandle } from "../../src/index.ts"
import { decodeCheckpoint } from "../../src/internal/format/checkpointRecord.ts"
import { sigkill, spawnChild } from "../support/child.ts"
import { FaultPlan } from "../support/FaultyFileSystem.ts"
import { buildLog, hashTree, segmentPaths } from "../support/logs.ts"
import { eventFor, faultyLayer, nodeLayer, seededRng, tempDir } from "../support/wal.ts"

const BATCH_BYTES = 64 + 5 * 21
const config = (dir: string) => ({
  dir,
  segmentMaxBytes: 2 * BATCH_BYTES,
  batchMaxEvents: 5,
  groupCommit: "eager" as const
})

describe("checkpoint", () => {
  it.live("replay after reopen is every event after the checkpoint; the bounds are enforced", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* buildLog(dir, 6, 5, { segmentMaxBytes: 2 * BATCH_BYTES })
      yield* Effect.scoped(
        Effect.gen(function* () {
          const [wal] = yield* WalHandle.open(config(dir))
          const beyond = yield* Effect.flip(wal.checkpoint(31n))
          assert.instanceOf(beyond, CheckpointError)
          if (beyond instanceof CheckpointError) {
            assert.strictEqual(beyond.reason, "BeyondDurable")
            assert.strictEqual(beyond.limitSeq, 30n)
            assert.include(beyond.message, "31")
          }
          yield* wal.checkpoint(12n)
          const below = yield* Effect.flip(wal.checkpoint(11n))
          assert.instanceOf(below, CheckpointError)
          if (below instanceof CheckpointError) assert.strictEqual(below.reason, "BelowCheckpoint")
          yield* wal.checkpoint(12n)
          const invalid = yield* Effect.flip(wal.checkpoint(-1n))
          assert.instanceOf(invalid, CheckpointError)
          const notBigint = yield* Effect.flip(wal.checkpoint(5 as unknown as bigint))
          assert.instanceOf(notBigint, CheckpointError)
        })
      )
      const [wal, replayed] = yield* WalHandle.open(config(dir))
      assert.strictEqual(wal.recovery.checkpoint, 12n)
      assert.strictEqual(replayed.firstSeq, 13n)
      assert.deepStrictEqual(
        [...replayed].map((e) => e.seq),
        Array.from({ length: 18 }, (_, i) => BigInt(13 + i))
      )
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live(
    "truncateBefore deletes whole segments below seq, never the active one, never past checkpoint + 1",
    () =>
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const dir = yield* tempDir
        yield* buildLog(dir, 6, 5, { segmentMaxBytes: 2 * BATCH_BYTES })
        const [s1, s2, s3] = yield* segmentPaths(dir)
        const [wal] = yield* WalHandle.open(config(dir))
        const refused = yield* Effect.flip(wal.truncateBefore(2n))
        assert.instanceOf(refused, CheckpointError)
        if (refused instanceof CheckpointError) {
          assert.strictEqual(refused.reason, "TruncateBeyondCheckpoint")
          assert.strictEqual(refused.limitSeq, 1n)
        }
        assert.strictEqual(yield* wal.truncateBefore(1n), 0)
        yield* wal.checkpoint(25n)
        // Segment 1 holds 1..10, segment 2 holds 11..20: truncateBefore(20) may delete only segment 1.
        assert.strictEqual(yield* wal.truncateBefore(20n), 1)
        assert.isFalse(yield* fs.exists(s1 ?? ""))
        assert.isTrue(yield* fs.exists(s2 ?? ""))
        assert.strictEqual(yield* wal.truncateBefore(26n), 1)
        assert.isFalse(yield* fs.exists(s2 ?? ""))
        yield* wal.checkpoint(30n)
        // The last segment is being written: never deleted, even when all of it is below seq.
        assert.strictEqual(yield* wal.truncateBefore(31n), 0)
        assert.isTrue(yield* fs.exists(s3 ?? ""))
        assert.deepStrictEqual(
          (yield* wal.listSegments).map((s) => [s.firstSeq, s.lastSeq]),
          [[21n, 30n]]
        )
        assert.strictEqual(yield* wal.append(eventFor(100)), 31n)
        yield* wal.shutdown
        const [reopened, replayed] = yield* WalHandle.open(config(dir))
        assert.strictEqual(replayed.length, 1)
        assert.strictEqual(reopened.recovery.lastSeq, 31n)
      }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("a failed rename leaves the previous checkpoint intact and readable", () => {
    const plan = new FaultPlan()
    return Effect.gen(function* () {
      const dir = yield* tempDir
      yield* buildLog(dir, 2, 5).pipe(Effect.provide(nodeLayer))
      const [wal] = yield* WalHandle.open(config(dir))
      yield* wal.checkpoint(3n)
      plan.inject({ operation: "rename", pathEndsWith: "checkpoint.meta", skip: 0, errno: "EIO" })
      const error = yield* Effect.flip(wal.checkpoint(7n))
      assert.instanceOf(error, IoError)
      if (error instanceof IoError) assert.strictEqual(error.operation, "rename")
      yield* wal.shutdown
      const [, replayed] = yield* WalHandle.open(config(dir)).pipe(Effect.provide(nodeLayer))
      assert.strictEqual(replayed.firstSeq, 4n)
      const ops = plan.log.filter((c) => c.path.includes("checkpoint.meta")).map((c) => `${c.operation}`)
      // tmp written, synced, then renamed: the order that makes the replace atomic.
      assert.deepStrictEqual(ops.slice(0, 4), ["open", "write", "sync", "rename"])
    }).pipe(Effect.scoped, Effect.provide(faultyLayer(plan)))
  })

  it.live(
    "a checkpoint.meta whose magic or checksum is wrong fails open with CorruptionError, changing nothing",
    () =>
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const dir = yield* tempDir
        yield* buildLog(dir, 2, 5)
        yield* Effect.scoped(Effect.flatMap(WalHandle.open(config(dir)), ([wal]) => wal.checkpoint(4n)))
        const file = path.join(dir, "checkpoint.meta")
        const good = yield* fs.readFile(file)
        for (const offset of [0, 10, 20, 40]) {
          const bad = new Uint8Array(good)
          bad[offset] = (bad[offset] ?? 0) ^ 1
          yield* fs.writeFile(file, bad)
          const before = yield* hashTree(dir)
          const error = yield* Effect.flip(WalHandle.open(config(dir)))
          assert.instanceOf(error, CorruptionError)
          if (error instanceof CorruptionError) {
            assert.strictEqual(error.reason, "BadCheckpoint")
            assert.strictEqual(error.file, file)
          }
          assert.deepStrictEqual(yield* hashTree(dir), before)
        }
      }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  const killRng = seededRng("TIDAL_WAL_CRASH_SEED", "SIGKILL during checkpoints")
  it.live(
    `SIGKILL during checkpoints never leaves an unreadable checkpoint (seed ${killRng.seed})`,
    () =>
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const dir = yield* tempDir
        let lastReported = 0n
        for (let round = 0; round < 8; round++) {
          const child = spawnChild([dir, "checkpoint"])
          yield* Effect.promise(() => child.ready)
          yield* Effect.sleep(`${killRng.int(10, 159)} millis`)
          yield* Effect.promise(() => sigkill(child))
          for (const line of child.lines) {
            const [kind, seq] = line.split(" ")
            if (kind === "checkpoint" && seq !== undefined) lastReported = BigInt(seq)
          }
          const file = path.join(dir, "checkpoint.meta")
          if (!(yield* fs.exists(file))) {
            assert.strictEqual(lastReported, 0n, "a reported checkpoint's file is gone")
            continue
          }
          const decoded = decodeCheckpoint(yield* fs.readFile(file))
          assert.strictEqual(decoded._tag, "Valid")
          if (decoded._tag === "Valid") assert.isTrue(decoded.record.sequence >= lastReported)
          const [wal] = yield* Effect.scoped(WalHandle.open({ dir, segmentMaxBytes: 8192 }))
          assert.isTrue(
            wal.recovery.checkpoint >= lastReported,
            `checkpoint ${wal.recovery.checkpoint} < ${lastReported}`
          )
        }
        assert.isTrue(lastReported > 0n, "the child reported checkpoints")
      }).pipe(Effect.scoped, Effect.provide(nodeLayer)),
    { timeout: 60_000 }
  )
})
