/**
 * SPEC §3 "Open, recovery and replay": damage before the last segment is corruption, not a torn
 * tail. `tolerate-tail` and `strict` fail with `CorruptionError` naming file and offset and change
 * no byte; `point-in-time` cuts there and quarantines everything after. A valid batch of an
 * unknown version fails open in every mode and is never cut.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem, Path } from "effect"
import { CorruptionError, type RecoveryMode, UnsupportedVersionError, WalHandle } from "../../src/index.ts"
import { encodeBatch } from "../../src/internal/format/batchCodec.ts"
import { buildLog, hashTree, quarantineFiles, segmentPaths } from "../support/logs.ts"
import { eventFor, nodeLayer, plainEvent, stored, tempDir } from "../support/wal.ts"

const BATCH_BYTES = 64 + 5 * 21

/** A log of 6 batches of 5 events, two batches per segment (3 segments). */
const template = Effect.gen(function* () {
  const dir = yield* tempDir
  const events = yield* buildLog(dir, 6, 5, { segmentMaxBytes: 2 * BATCH_BYTES })
  return { dir, events }
})

const flipByte = (file: string, offset: number) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const bytes = yield* fs.readFile(file)
    bytes[offset] = (bytes[offset] ?? 0) ^ 0x40
    yield* fs.writeFile(file, bytes)
  })

describe("corruption before the last segment", () => {
  for (const mode of ["tolerate-tail", "strict"] as const) {
    it.live(`${mode}: fails with CorruptionError naming file and offset, and changes no byte`, () =>
      Effect.gen(function* () {
        const { dir } = yield* template
        const [first] = yield* segmentPaths(dir)
        yield* flipByte(first ?? "", BATCH_BYTES + 70) // inside the payload of the second batch
        const before = yield* hashTree(dir)
        const error = yield* Effect.flip(WalHandle.open({ dir, recoveryMode: mode }))
        assert.instanceOf(error, CorruptionError)
        if (error instanceof CorruptionError) {
          assert.strictEqual(error.file, first)
          assert.strictEqual(error.offsetBytes, BATCH_BYTES)
          assert.strictEqual(error.reason, "ChecksumMismatch")
          assert.include(error.message, `${first}`)
          assert.include(error.message, `byte ${BATCH_BYTES}`)
        }
        assert.deepStrictEqual(yield* hashTree(dir), before)
      }).pipe(Effect.scoped, Effect.provide(nodeLayer))
    )
  }

  it.live(
    "point-in-time: truncates at the first invalid batch and quarantines every later byte and segment",
    () =>
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const { dir, events } = yield* template
        const [first, second, third] = yield* segmentPaths(dir)
        const secondBytes = yield* fs.readFile(second ?? "")
        const thirdBytes = yield* fs.readFile(third ?? "")
        yield* flipByte(second ?? "", BATCH_BYTES + 3) // magic of segment 2's second batch
        const damaged = yield* fs.readFile(second ?? "")
        const [wal, replayed] = yield* WalHandle.open({ dir, recoveryMode: "point-in-time" })
        assert.deepStrictEqual([...replayed].map(plainEvent), events.slice(0, 15).map(stored))
        assert.deepStrictEqual(yield* fs.readFile(second ?? ""), secondBytes.subarray(0, BATCH_BYTES))
        assert.isTrue(yield* fs.exists(first ?? ""))
        assert.isFalse(yield* fs.exists(third ?? ""))
        const quarantined = yield* quarantineFiles(dir)
        assert.strictEqual(quarantined.length, 2)
        const contents = yield* Effect.forEach(quarantined, (q) => fs.readFile(q))
        const expected = [damaged.subarray(BATCH_BYTES), thirdBytes]
          .map((b) => Buffer.from(b).toString("hex"))
          .sort()
        assert.deepStrictEqual(contents.map((b) => Buffer.from(b).toString("hex")).sort(), expected)
        assert.strictEqual(wal.recovery.bytesTruncated, BATCH_BYTES + thirdBytes.byteLength)
        assert.strictEqual(yield* wal.append(eventFor(1000)), 16n)
      }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("strict fails on a torn tail too, and changes nothing", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const { dir } = yield* template
      const last = (yield* segmentPaths(dir)).at(-1) ?? ""
      const bytes = yield* fs.readFile(last)
      yield* fs.writeFile(last, bytes.subarray(0, bytes.byteLength - 7))
      const before = yield* hashTree(dir)
      const error = yield* Effect.flip(WalHandle.open({ dir, recoveryMode: "strict" }))
      assert.instanceOf(error, CorruptionError)
      if (error instanceof CorruptionError) assert.strictEqual(error.reason, "BatchPastEndOfFile")
      assert.deepStrictEqual(yield* hashTree(dir), before)
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("a last segment torn inside its first batch is removed after its bytes are quarantined", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const { dir, events } = yield* template
      const last = (yield* segmentPaths(dir)).at(-1) ?? ""
      const bytes = yield* fs.readFile(last)
      yield* fs.writeFile(last, bytes.subarray(0, 40))
      const [wal, replayed] = yield* WalHandle.open({
        dir,
        segmentMaxBytes: 2 * BATCH_BYTES,
        batchMaxEvents: 5
      })
      assert.deepStrictEqual([...replayed].map(plainEvent), events.slice(0, 20).map(stored))
      assert.isFalse(yield* fs.exists(last))
      const [quarantined] = yield* quarantineFiles(dir)
      assert.deepStrictEqual(yield* fs.readFile(quarantined ?? ""), bytes.subarray(0, 40))
      assert.strictEqual(yield* wal.append(eventFor(1000)), 21n)
      assert.isTrue(yield* fs.exists(last))
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("a missing segment is corruption, not a torn tail, even before the last segment only", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const { dir } = yield* template
      const [, second, third] = yield* segmentPaths(dir)
      yield* fs.remove(second ?? "")
      const before = yield* hashTree(dir)
      const error = yield* Effect.flip(WalHandle.open({ dir }))
      assert.instanceOf(error, CorruptionError)
      if (error instanceof CorruptionError) {
        assert.strictEqual(error.reason, "SegmentNameMismatch")
        assert.strictEqual(error.file, third)
      }
      assert.deepStrictEqual(yield* hashTree(dir), before)
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})

describe("unknown versions", () => {
  for (const mode of ["tolerate-tail", "point-in-time", "strict"] satisfies Array<RecoveryMode>) {
    it.live(
      `${mode}: a valid batch of version 2 fails open with UnsupportedVersionError and is not cut`,
      () =>
        Effect.gen(function* () {
          const fs = yield* FileSystem.FileSystem
          const path = yield* Path.Path
          const { dir } = yield* template
          const last = (yield* segmentPaths(dir)).at(-1) ?? ""
          // A newer writer's batch: version 2 with a correct checksum, appended after seq 30.
          const batch = encodeBatch(31n, 1n, [eventFor(31)])
          new DataView(batch.buffer).setUint16(4, 2, true)
          const reencoded = encodeBatchWithVersion(batch)
          const before = yield* fs.readFile(last)
          yield* fs.writeFile(last, new Uint8Array([...before, ...reencoded]))
          const hashes = yield* hashTree(dir)
          const error = yield* Effect.flip(WalHandle.open({ dir, recoveryMode: mode }))
          assert.instanceOf(error, UnsupportedVersionError)
          if (error instanceof UnsupportedVersionError) {
            assert.strictEqual(error.version, 2)
            assert.strictEqual(error.offsetBytes, before.byteLength)
            assert.strictEqual(error.file, last)
          }
          assert.deepStrictEqual(yield* hashTree(dir), hashes)
          assert.isFalse(yield* fs.exists(path.join(dir, "quarantine")))
        }).pipe(Effect.scoped, Effect.provide(nodeLayer))
    )
  }
})

/** Recomputes the checksum of a batch whose header was edited. */
const encodeBatchWithVersion = (batch: Uint8Array): Uint8Array => {
  const out = new Uint8Array(batch)
  const input = new Uint8Array([...out.subarray(0, 32), ...out.subarray(64)])
  out.set(blake3(input), 32)
  return out
}

import { blake3 } from "../../src/internal/format/checksum.ts"
