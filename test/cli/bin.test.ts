/**
 * SPEC §5 through the real bin, run as a child process: exit codes, the first problem's file,
 * offset and reason, NDJSON that parses back to the appended events, and inspect naming every
 * segment. `verify` must leave every byte as it was. (Finer points of the command line run
 * in-process, in the other files here; these check that the bin carries them end to end.)
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem } from "effect"
import { runBin as run } from "../support/cliRun.ts"
import { buildLog, hashTree, segmentPaths } from "../support/logs.ts"
import { nodeLayer, tempDir } from "../support/wal.ts"

const BATCH_BYTES = 64 + 5 * 21

const logOf = Effect.gen(function* () {
  const dir = yield* tempDir
  const events = yield* buildLog(dir, 9, 5, { segmentMaxBytes: 3 * BATCH_BYTES })
  return { dir, events }
})

describe("tidal-wal command line", () => {
  it.live("verify exits 0 on a clean log and changes nothing", () =>
    Effect.gen(function* () {
      const { dir } = yield* logOf
      const before = yield* hashTree(dir)
      const result = yield* run("verify", dir)
      assert.strictEqual(result.code, 0, result.stderr)
      assert.match(result.stdout, /^ok: 3 segments, 9 batches, 45 events/)
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
      assert.include(tornResult.stderr, last)
      assert.include(tornResult.stderr, `at byte ${2 * BATCH_BYTES}`)
      assert.include(tornResult.stderr, "BatchPastEndOfFile")
      assert.notInclude(tornResult.stderr, "    at ")
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

  it.live("dump --format ndjson parses back to the appended events", () =>
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
      assert.deepStrictEqual(
        ranged.stdout
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l).seq),
        ["7", "8", "9"]
      )
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("inspect names every segment, the checkpoint and the lock", () =>
    Effect.gen(function* () {
      const { dir } = yield* logOf
      const result = yield* run("inspect", dir)
      assert.strictEqual(result.code, 0, result.stderr)
      for (const segment of yield* segmentPaths(dir))
        assert.include(result.stdout, segment.split("/").at(-1) ?? "")
      assert.include(result.stdout, "checkpoint: none (0)")
      assert.include(result.stdout, "lock: free")
      assert.include(result.stdout, "totals: 3 segments")
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("usage errors exit 2 with a message on stderr and nothing on stdout", () =>
    Effect.gen(function* () {
      const { dir } = yield* logOf
      const missing = yield* run("dump")
      assert.strictEqual(missing.code, 2)
      assert.include(missing.stderr, "Missing required argument")
      assert.strictEqual(missing.stdout, "")
      const unknown = yield* run("frobnicate")
      assert.strictEqual(unknown.code, 2)
      assert.strictEqual(unknown.stdout, "")
      const badSeq = yield* run("dump", dir, "--from", "-3")
      assert.strictEqual(badSeq.code, 2)
      assert.include(badSeq.stderr, "--from must be a sequence number")
      assert.strictEqual(badSeq.stdout, "")
      const badFormat = yield* run("dump", dir, "--format", "xml")
      assert.strictEqual(badFormat.code, 2)
      assert.strictEqual(badFormat.stdout, "")
      const help = yield* run("verify", "--help")
      assert.strictEqual(help.code, 0)
      assert.include(help.stdout, "verify")
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("dump exits 1 on a torn tail after printing the events before it", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const { dir } = yield* logOf
      const last = (yield* segmentPaths(dir)).at(-1) ?? ""
      const lastBytes = yield* fs.readFile(last)
      yield* fs.writeFile(last, lastBytes.subarray(0, lastBytes.byteLength - 10))
      const result = yield* run("dump", dir)
      assert.strictEqual(result.code, 1)
      assert.strictEqual(result.stdout.trim().split("\n").length, 40)
      assert.include(result.stderr, `${last} at byte ${2 * BATCH_BYTES}`)
      assert.notInclude(result.stderr, "    at ")
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})
