/**
 * SPEC §4 "WalConfig": the defaults, and a typed `InvalidConfigError` naming the field and value
 * for each bad setting, before anything touches the directory.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem, Path } from "effect"
import { decodeWalConfig, InvalidConfigError, WalHandle } from "../src/index.ts"
import { nodeLayer, snapshotDir, tempDir } from "./support/wal.ts"

const invalid: ReadonlyArray<readonly [string, Record<string, unknown>, string]> = [
  ["dir", { dir: "" }, '""'],
  ["dir", { dir: 5 }, "5"],
  ["segmentMaxBytes", { segmentMaxBytes: 0 }, "0"],
  ["segmentMaxBytes", { segmentMaxBytes: 1.5 }, "1.5"],
  ["segmentMaxBytes", { segmentMaxBytes: 2048 }, "2048"],
  ["batchMaxEvents", { batchMaxEvents: 0 }, "0"],
  ["batchMaxEvents", { batchMaxEvents: "100" }, '"100"'],
  ["batchMaxWait", { batchMaxWait: "soon" }, '"soon"'],
  ["batchMaxWait", { batchMaxWait: -1 }, "-1"],
  ["batchMaxWait", { batchMaxWait: Number.POSITIVE_INFINITY }, "Infinity"],
  ["queueCapacity", { queueCapacity: 0 }, "0"],
  ["dedupWindow", { dedupWindow: 0 }, "0"],
  ["recoveryMode", { recoveryMode: "lenient" }, '"lenient"'],
  ["groupCommit", { groupCommit: "lazy" }, '"lazy"'],
  ["replay", { replay: "all" }, '"all"'],
  // Issue #12: NaN is not 0 ms, a misspelt key is not ignored, and every value has an upper bound.
  ["batchMaxWait", { batchMaxWait: Number.NaN }, "NaN"],
  ["dedupWindow", { dedupWindow: Number.NaN }, "NaN"],
  ["recoverymode", { recoverymode: "strict" }, '"strict"'],
  ["segmentMaxBytes", { segmentMaxBytes: 1_073_741_825 }, "1073741825"],
  ["batchMaxEvents", { batchMaxEvents: 65_537 }, "65537"],
  ["queueCapacity", { queueCapacity: 1_000_001 }, "1000001"],
  ["batchMaxWait", { batchMaxWait: "61 seconds" }, '"61 seconds"'],
  ["dedupWindow", { dedupWindow: "25 hours" }, '"25 hours"']
]

describe("WalConfig", () => {
  it.effect("fills in the SPEC defaults", () =>
    Effect.gen(function* () {
      const config = yield* decodeWalConfig({ dir: "/tmp/x" })
      assert.deepStrictEqual(config, {
        dir: "/tmp/x",
        segmentMaxBytes: 16_777_216,
        batchMaxEvents: 100,
        batchMaxWaitMillis: 10,
        queueCapacity: 10_000,
        dedupWindowNanos: 30_000_000_000n,
        recoveryMode: "tolerate-tail",
        groupCommit: "window",
        replay: "collect"
      })
    })
  )

  it.effect("the largest values the bounds allow decode", () =>
    Effect.gen(function* () {
      const config = yield* decodeWalConfig({
        dir: "/tmp/x",
        segmentMaxBytes: 1_073_741_824,
        batchMaxEvents: 65_536,
        batchMaxWait: "60 seconds",
        queueCapacity: 1_000_000,
        dedupWindow: "24 hours"
      })
      assert.strictEqual(config.batchMaxWaitMillis, 60_000)
      assert.strictEqual(config.dedupWindowNanos, 86_400_000_000_000n)
    })
  )

  it.live("each invalid value fails open with InvalidConfigError naming it; the directory is untouched", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const parent = yield* tempDir
      const dir = path.join(parent, "wal")
      for (const [field, override, shown] of invalid) {
        const error = yield* Effect.flip(WalHandle.open({ dir, ...override } as { dir: string }))
        assert.instanceOf(error, InvalidConfigError, field)
        if (!(error instanceof InvalidConfigError)) continue
        assert.strictEqual(error.field, field)
        assert.strictEqual(error.value, shown)
        assert.include(error.message, field)
        assert.isFalse(yield* fs.exists(dir))
      }
      assert.deepStrictEqual(yield* snapshotDir(parent), {})
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})
