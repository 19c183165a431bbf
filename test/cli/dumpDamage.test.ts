/**
 * Issue #12, "Command line" item 3: a dump that stops at damage must not pass for the whole log.
 * stdout holds exactly the events before the damage; stderr names the file, the byte offset and
 * the reason; the exit status is 1 — for mid-log corruption and for a torn tail alike. Run
 * in-process; the randomized case prints its seed (rerun with CLI_DAMAGE_SEED=<seed>).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem } from "effect"
import { ndjsonLine } from "../../src/cli/dump.ts"
import type { SignalEvent } from "../../src/index.ts"
import { runInProcess } from "../support/cliRun.ts"
import { buildLog, copyLog, segmentPaths } from "../support/logs.ts"
import { nodeLayer, stored, tempDir } from "../support/wal.ts"
import { xorshiftWords } from "../support/words.ts"

const BATCH_BYTES = 64 + 5 * 21
const EVENTS_PER_BATCH = 5
const BATCHES_PER_SEGMENT = 3

/** 9 batches of 5 events, 3 batches a segment. */
const logOf = Effect.gen(function* () {
  const dir = yield* tempDir
  const events = yield* buildLog(dir, 9, EVENTS_PER_BATCH, {
    segmentMaxBytes: BATCHES_PER_SEGMENT * BATCH_BYTES
  })
  return { dir, events }
})

/** What `dump` prints for the first `count` events. */
const ndjsonOf = (events: ReadonlyArray<SignalEvent>, count: number): string =>
  events
    .slice(0, count)
    .map((e, i) => `${ndjsonLine({ ...stored(e), seq: BigInt(i + 1) })}\n`)
    .join("")

const flipByte = (file: string, offset: number) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const bytes = yield* fs.readFile(file)
    bytes[offset] = (bytes[offset] ?? 0) ^ 0xff
    yield* fs.writeFile(file, bytes)
  })

const truncateTo = (file: string, length: number) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const bytes = yield* fs.readFile(file)
    yield* fs.writeFile(file, bytes.subarray(0, length))
  })

describe("dump at damage", () => {
  it.live("mid-log corruption: the events before it on stdout; file, offset, reason on stderr; exit 1", () =>
    Effect.gen(function* () {
      // In an earlier segment, and in the middle of the last one with an intact batch after it —
      // where the reader, allowing for a live writer, sees the end of the log rather than damage.
      for (const [segment, batch, printed] of [
        [0, 1, 5],
        [2, 1, 35]
      ] as const) {
        const { dir, events } = yield* logOf
        const file = (yield* segmentPaths(dir))[segment] ?? ""
        yield* flipByte(file, batch * BATCH_BYTES + 80)
        const result = yield* runInProcess("dump", dir)
        assert.strictEqual(result.code, 1, `segment ${segment}: ${result.stderr}`)
        assert.strictEqual(result.stdout, ndjsonOf(events, printed))
        assert.include(result.stderr, `${file} at byte ${batch * BATCH_BYTES}: ChecksumMismatch`)
      }
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("a torn tail: the events before it on stdout, file, offset and reason on stderr, exit 1", () =>
    Effect.gen(function* () {
      const { dir, events } = yield* logOf
      const last = (yield* segmentPaths(dir)).at(-1) ?? ""
      yield* truncateTo(last, 3 * BATCH_BYTES - 10)
      const result = yield* runInProcess("dump", dir)
      assert.strictEqual(result.code, 1, result.stderr)
      assert.strictEqual(result.stdout, ndjsonOf(events, 40))
      assert.include(result.stderr, `${last} at byte ${2 * BATCH_BYTES}`)
      assert.include(result.stderr, "BatchPastEndOfFile")
      const table = yield* runInProcess("dump", dir, "--format", "table")
      assert.strictEqual(table.code, 1)
      assert.strictEqual(table.stdout.trimEnd().split("\n").length, 1 + 40)
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("damage after --to does not fail a dump that got every event it asked for", () =>
    Effect.gen(function* () {
      const torn = yield* logOf
      yield* truncateTo((yield* segmentPaths(torn.dir)).at(-1) ?? "", 3 * BATCH_BYTES - 10)
      const before = yield* runInProcess("dump", torn.dir, "--to", "40")
      assert.strictEqual(before.code, 0, before.stderr)
      assert.strictEqual(before.stdout, ndjsonOf(torn.events, 40))
      const into = yield* runInProcess("dump", torn.dir, "--to", "41")
      assert.strictEqual(into.code, 1)
      assert.strictEqual(into.stdout, ndjsonOf(torn.events, 40))

      const corrupt = yield* logOf
      yield* flipByte((yield* segmentPaths(corrupt.dir))[0] ?? "", BATCH_BYTES + 80)
      const clear = yield* runInProcess("dump", corrupt.dir, "--to", "5")
      assert.strictEqual(clear.code, 0, clear.stderr)
      assert.strictEqual(clear.stdout, ndjsonOf(corrupt.events, 5))
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("a clean log dumps whole with exit 0 and nothing on stderr", () =>
    Effect.gen(function* () {
      const { dir, events } = yield* logOf
      const result = yield* runInProcess("dump", dir)
      assert.strictEqual(result.code, 0, result.stderr)
      assert.strictEqual(result.stderr, "")
      assert.strictEqual(result.stdout, ndjsonOf(events, 45))
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  const seed = Number(process.env.CLI_DAMAGE_SEED ?? Math.floor(Math.random() * 2 ** 31))
  it.live(`random damage anywhere (seed ${seed}): exactly the events before it, exit 1 unless none`, () =>
    Effect.gen(function* () {
      console.log(`dump damage rounds: CLI_DAMAGE_SEED=${seed}`)
      const random = xorshiftWords(seed)
      const below = (n: number) => random() % n
      const source = yield* logOf
      const segments = yield* segmentPaths(source.dir)
      for (let round = 0; round < 24; round++) {
        const dir = yield* copyLog(source.dir)
        const segmentIndex = below(segments.length)
        const file = (yield* segmentPaths(dir))[segmentIndex] ?? ""
        const size = BATCHES_PER_SEGMENT * BATCH_BYTES
        const tear = segmentIndex === segments.length - 1 && below(2) === 0
        // A torn tail cut exactly at a batch boundary is a shorter, intact log: exit 0.
        const offset = tear ? below(size + 1) : below(size)
        if (tear) yield* truncateTo(file, offset)
        else yield* flipByte(file, offset)
        const damagedBatch = Math.floor(offset / BATCH_BYTES)
        const intact = tear && offset % BATCH_BYTES === 0
        const printed = (segmentIndex * BATCHES_PER_SEGMENT + damagedBatch) * EVENTS_PER_BATCH
        const label = `seed ${seed} round ${round}: ${tear ? "tear" : "flip"} ${file} at ${offset}`
        const result = yield* runInProcess("dump", dir)
        assert.strictEqual(result.stdout, ndjsonOf(source.events, printed), label)
        assert.strictEqual(result.code, intact ? 0 : 1, `${label}: ${result.stderr}`)
        if (!intact) assert.include(result.stderr, `${file} at byte ${damagedBatch * BATCH_BYTES}`, label)
      }
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})
