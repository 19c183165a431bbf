/**
 * SPEC §3: a torn or half-written tail in the last segment is copied to quarantine/ and cut, and
 * open recovers the prefix. Exhaustive over every cut offset inside the last batch.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem } from "effect"
import { WalHandle } from "../../src/index.ts"
import { buildLog, copyLog, quarantineFiles, segmentPaths } from "../support/logs.ts"
import { eventFor, nodeLayer, plainEvent, stored, tempDir } from "../support/wal.ts"

const BATCH_BYTES = 64 + 5 * 21

describe("torn tail", () => {
  it.live(
    "the last segment cut at every offset inside its last batch recovers the prefix, quarantining exactly the cut bytes",
    () =>
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const template = yield* tempDir
        // 4 batches of 5 events, two batches per segment: the last segment holds batches 3 and 4.
        const events = yield* buildLog(template, 4, 5, { segmentMaxBytes: 2 * BATCH_BYTES })
        const last = (yield* segmentPaths(template)).at(-1) ?? ""
        const full = yield* fs.readFile(last)
        assert.strictEqual(full.byteLength, 2 * BATCH_BYTES)
        for (let cut = BATCH_BYTES; cut < 2 * BATCH_BYTES; cut++) {
          yield* Effect.scoped(
            Effect.gen(function* () {
              const dir = yield* copyLog(template)
              const segment = (yield* segmentPaths(dir)).at(-1) ?? ""
              yield* fs.writeFile(segment, full.subarray(0, cut))
              const [wal, replayed] = yield* WalHandle.open({ dir })
              assert.strictEqual(replayed.length, 15, `cut at ${cut}`)
              assert.deepStrictEqual([...replayed].map(plainEvent), events.slice(0, 15).map(stored))
              assert.strictEqual((yield* fs.readFile(segment)).byteLength, BATCH_BYTES)
              const quarantined = yield* quarantineFiles(dir)
              if (cut === BATCH_BYTES) {
                assert.deepStrictEqual(quarantined, [])
              } else {
                assert.strictEqual(quarantined.length, 1)
                assert.deepStrictEqual(
                  yield* fs.readFile(quarantined[0] ?? ""),
                  full.subarray(BATCH_BYTES, cut)
                )
                assert.strictEqual(wal.recovery.bytesTruncated, cut - BATCH_BYTES)
              }
              assert.strictEqual(yield* wal.append(eventFor(9999)), 16n)
            })
          )
        }
      }).pipe(Effect.scoped, Effect.provide(nodeLayer)),
    { timeout: 60_000 }
  )

  it.live(
    "zeros or garbage after the last batch are quarantined and cut; the file ends on a batch boundary",
    () =>
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const template = yield* tempDir
        const events = yield* buildLog(template, 3, 5)
        const garbage = new Uint8Array(777)
        for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 131 + 7) & 0xff
        for (const tail of [new Uint8Array(4096), garbage, new Uint8Array(10)]) {
          yield* Effect.scoped(
            Effect.gen(function* () {
              const dir = yield* copyLog(template)
              const segment = (yield* segmentPaths(dir)).at(-1) ?? ""
              const valid = yield* fs.readFile(segment)
              yield* fs.writeFile(segment, new Uint8Array([...valid, ...tail]))
              const [wal, replayed] = yield* WalHandle.open({ dir })
              assert.deepStrictEqual([...replayed].map(plainEvent), events.map(stored))
              assert.deepStrictEqual(yield* fs.readFile(segment), valid)
              const quarantined = yield* quarantineFiles(dir)
              assert.strictEqual(quarantined.length, 1)
              assert.deepStrictEqual(yield* fs.readFile(quarantined[0] ?? ""), tail)
              assert.deepStrictEqual(wal.recovery.filesQuarantined, quarantined)
            })
          )
        }
      }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})
