/**
 * Coalesced writes through the real WAL: batches written together never make a segment exceed
 * `segmentMaxBytes` (docs/FORMAT.md §3), and every acknowledged event reads back after reopen.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem } from "effect"
import { WalHandle } from "../../src/index.ts"
import { batchSizeBytes } from "../../src/internal/format/batchCodec.ts"
import { eventsFor, nodeLayer, tempDir } from "../support/wal.ts"

const EVENTS_PER_BATCH = 10
/** Room for exactly three full batches: a group of four would overflow it. */
const SEGMENT_MAX_BYTES = 3 * batchSizeBytes(EVENTS_PER_BATCH)

describe("coalesced writes", () => {
  it.live("under load, no segment exceeds segmentMaxBytes, and every acknowledged event reads back", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const fs = yield* FileSystem.FileSystem
      const events = eventsFor(3000)
      const seqs = yield* Effect.scoped(
        Effect.gen(function* () {
          const [wal] = yield* WalHandle.open({
            dir,
            batchMaxEvents: EVENTS_PER_BATCH,
            segmentMaxBytes: SEGMENT_MAX_BYTES,
            groupCommit: "eager"
          })
          return yield* Effect.forEach(events, (event) => wal.append(event), { concurrency: "unbounded" })
        })
      )
      assert.strictEqual(new Set(seqs).size, events.length)
      const names = (yield* fs.readDirectory(dir)).filter((name) => name.endsWith(".seg"))
      assert.isAbove(names.length, 1)
      for (const name of names) {
        const { size } = yield* fs.stat(`${dir}/${name}`)
        assert.isAtMost(Number(size), SEGMENT_MAX_BYTES, `${name} holds ${size} bytes`)
      }
      const [, replayed] = yield* Effect.scoped(WalHandle.open({ dir }))
      assert.strictEqual(replayed.length, events.length)
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})
