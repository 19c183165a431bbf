/**
 * The read-only commands end to end (docs/FORMAT.md's command line), in-process: exit codes, the
 * first problem's file, offset and reason, NDJSON that parses back to the appended events, and
 * inspect naming every segment. `verify` must leave every byte as it was.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem } from "effect"
import { runInProcess as run } from "../support/cliRun.ts"
import { buildLog, hashTree, segmentPaths } from "../support/logs.ts"
import { nodeLayer, tempDir } from "../support/wal.ts"

const BATCH_BYTES = 64 + 5 * 21

/** 9 batches of 5 events, 3 batches a segment. */
const logOf = Effect.gen(function* () {
  const dir = yield* tempDir
  const events = yield* buildLog(dir, 9, 5, { segmentMaxBytes: 3 * BATCH_BYTES })
  return { dir, events }
})

describe("tidal-wal verify, dump and inspect", () => {
  it.live("verify exits 0 on a clean log and changes nothing", () =>
    Effect.gen(function* () {
      const { dir } = yield* logOf
      const before = yield* hashTree(dir)
      const result = yield* run("verify", dir)
      assert.strictEqual(result.code, 0, result.stderr)
      assert.strictEqual(
        result.stdout,
        "ok: 3 segments, 9 batches, 45 events, checkpoint 0\nquarantine: empty\n"
      )
      assert.deepStrictEqual(yield* hashTree(dir), before)
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("verify exits 1 on a torn tail and on mid-log corruption, naming file, offset and reason", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const torn = yield* logOf
      const last = (yield* segmentPaths(torn.dir)).at(-1) ?? ""
      const lastBytes = yield* fs.readFile(last)
      yield* fs.writeFile(last, lastBytes.subarray(0, lastBytes.byteLength - 10))
      const tornBefore = yield* hashTree(torn.dir)
      const tornResult = yield* run("verify", torn.dir)
      assert.strictEqual(tornResult.code, 1)
      assert.strictEqual(tornResult.stdout, "")
      assert.include(tornResult.stderr, `${last} at byte ${2 * BATCH_BYTES}: BatchPastEndOfFile`)
      assert.deepStrictEqual(yield* hashTree(torn.dir), tornBefore)

      const corrupt = yield* logOf
      const [first] = yield* segmentPaths(corrupt.dir)
      const bytes = yield* fs.readFile(first ?? "")
      bytes[BATCH_BYTES + 80] = (bytes[BATCH_BYTES + 80] ?? 0) ^ 0xff
      yield* fs.writeFile(first ?? "", bytes)
      const corruptBefore = yield* hashTree(corrupt.dir)
      const corruptResult = yield* run("verify", corrupt.dir)
      assert.strictEqual(corruptResult.code, 1)
      assert.include(corruptResult.stderr, `${first} at byte ${BATCH_BYTES}: ChecksumMismatch`)
      assert.deepStrictEqual(yield* hashTree(corrupt.dir), corruptBefore)
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("dump prints NDJSON that parses back to the appended events, whole or by range", () =>
    Effect.gen(function* () {
      const { dir, events } = yield* logOf
      const result = yield* run("dump", dir)
      assert.strictEqual(result.code, 0, result.stderr)
      const lines = result.stdout.trim().split("\n")
      assert.strictEqual(lines.length, 45)
      lines.forEach((text, i) => {
        const parsed = JSON.parse(text)
        assert.deepStrictEqual(Object.keys(parsed), ["seq", "entityId", "signalType", "weight", "timestamp"])
        const e = events[i]
        assert.deepStrictEqual(parsed, {
          seq: String(i + 1),
          entityId: String(e?.entityId),
          signalType: e?.signalType,
          weight: Math.fround(e?.weight ?? 0),
          timestamp: String(e?.timestamp)
        })
      })
      const ranged = yield* run("dump", dir, "--from", "7", "--to", "9", "--format", "ndjson")
      assert.strictEqual(ranged.code, 0, ranged.stderr)
      assert.deepStrictEqual(
        ranged.stdout
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l).seq),
        ["7", "8", "9"]
      )
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("inspect names every segment, the checkpoint, the lock, the totals and the quarantine", () =>
    Effect.gen(function* () {
      const { dir } = yield* logOf
      const result = yield* run("inspect", dir)
      assert.strictEqual(result.code, 0, result.stderr)
      for (const segment of yield* segmentPaths(dir))
        assert.include(result.stdout, segment.split("/").at(-1) ?? "")
      assert.include(result.stdout, "checkpoint: none (0)")
      assert.include(result.stdout, "lock: free")
      assert.include(result.stdout, "totals: 3 segments, 1,521 bytes, 9 batches, 45 events, seq 1 to 45")
      assert.include(result.stdout, "quarantine: empty")
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})
