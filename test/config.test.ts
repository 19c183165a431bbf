/**
 * SPEC §4 "WalConfig": the defaults, and a typed `InvalidConfigError` naming the field and value
 * for each bad setting, before anything touches the directory. Issue #14: the same Schema reads a
 * `Config` (a ConfigProvider over an object or environment variables, every leaf a string), and
 * `walConfigFromConfig` takes `Config` values field by field, as `WalHandle.layerConfig` does.
 */
import { assert, describe, it } from "@effect/vitest"
import { Config, ConfigProvider, Context, Duration, Effect, FileSystem, Layer, Path } from "effect"
import {
  decodeWalConfig,
  InvalidConfigError,
  WalConfig,
  type WalConfigInput,
  WalHandle,
  walConfigFromConfig
} from "../src/index.ts"
import { eventFor, nodeLayer, snapshotDir, tempDir } from "./support/wal.ts"

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

/** What open would run on: the input the `Config` produced, decoded as open decodes it. */
const resolvedFrom = (config: Config.Config<WalConfigInput>, provider: ConfigProvider.ConfigProvider) =>
  Effect.flatMap(config.parse(provider), decodeWalConfig)

describe("WalConfig from Config", () => {
  it.effect(
    "Config.schema(WalConfig) reads an object of strings: durations with units, numbers as text",
    () =>
      Effect.gen(function* () {
        const provider = ConfigProvider.fromUnknown({
          wal: {
            dir: "/tmp/x",
            segmentMaxBytes: "1048576",
            batchMaxWait: "2 millis",
            dedupWindow: "250",
            groupCommit: "eager",
            // Not a field: Config.schema reads only the fields it knows, as Config does everywhere.
            unrelated: "ignored"
          }
        })
        const config = yield* resolvedFrom(Config.schema(WalConfig, "wal"), provider)
        assert.deepStrictEqual(config, {
          dir: "/tmp/x",
          segmentMaxBytes: 1_048_576,
          batchMaxEvents: 100,
          batchMaxWaitMillis: 2,
          queueCapacity: 10_000,
          dedupWindowNanos: 250_000_000n,
          recoveryMode: "tolerate-tail",
          groupCommit: "eager",
          replay: "collect"
        })
      })
  )

  it.effect("reads environment variables under a prefix, in camelCase or CONSTANT_CASE", () =>
    Effect.gen(function* () {
      const camel = ConfigProvider.fromEnv({
        env: { WAL_dir: "/tmp/env", WAL_batchMaxWait: "5 millis", WAL_queueCapacity: "500", HOME: "/root" }
      })
      const fromCamel = yield* resolvedFrom(Config.schema(WalConfig, "WAL"), camel)
      assert.strictEqual(fromCamel.dir, "/tmp/env")
      assert.strictEqual(fromCamel.batchMaxWaitMillis, 5)
      assert.strictEqual(fromCamel.queueCapacity, 500)
      const constant = ConfigProvider.fromEnv({
        env: { WAL_DIR: "/tmp/const", WAL_DEDUP_WINDOW: "1 minute", WAL_RECOVERY_MODE: "strict" }
      }).pipe(ConfigProvider.constantCase)
      const fromConstant = yield* resolvedFrom(Config.schema(WalConfig, "wal"), constant)
      assert.strictEqual(fromConstant.dir, "/tmp/const")
      assert.strictEqual(fromConstant.dedupWindowNanos, 60_000_000_000n)
      assert.strictEqual(fromConstant.recoveryMode, "strict")
    })
  )

  it.effect(
    "a value out of bounds or of the wrong kind is a ConfigError naming the field; so is no dir",
    () =>
      Effect.gen(function* () {
        const cases: ReadonlyArray<readonly [Record<string, string>, string, string]> = [
          [{ dir: "/d", batchMaxWait: "61 seconds" }, "batchMaxWait", "60000 ms"],
          [{ dir: "/d", dedupWindow: "soon" }, "dedupWindow", "86400000 ms"],
          [{ dir: "/d", batchMaxEvents: "65537" }, "batchMaxEvents", "65536"],
          [{ dir: "/d", queueCapacity: "1.5" }, "queueCapacity", "integer"],
          [{ dir: "/d", recoveryMode: "lenient" }, "recoveryMode", "strict"],
          [{ batchMaxEvents: "10" }, "dir", "Missing key"]
        ]
        for (const [input, field, shown] of cases) {
          const error = yield* Effect.flip(Config.schema(WalConfig).parse(ConfigProvider.fromUnknown(input)))
          assert.strictEqual(error._tag, "ConfigError", field)
          assert.include(error.message, field, JSON.stringify(input))
          assert.include(error.message, shown, JSON.stringify(input))
        }
      })
  )

  it.effect("walConfigFromConfig takes a Config per field, the fields left out take their defaults", () =>
    Effect.gen(function* () {
      const config = walConfigFromConfig({
        dir: Config.String("WAL_DIR"),
        batchMaxWait: Config.Duration("WAL_BATCH_MAX_WAIT"),
        batchMaxEvents: Config.Int("WAL_BATCH_MAX_EVENTS"),
        groupCommit: Config.Literals(["window", "eager"], "WAL_GROUP_COMMIT").pipe(
          Config.withDefault("window")
        )
      })
      const env = ConfigProvider.fromEnv({
        env: { WAL_DIR: "/tmp/w", WAL_BATCH_MAX_WAIT: "3 millis", WAL_BATCH_MAX_EVENTS: "50" }
      })
      const resolved = yield* resolvedFrom(config, env)
      assert.strictEqual(resolved.dir, "/tmp/w")
      assert.strictEqual(resolved.batchMaxWaitMillis, 3)
      assert.strictEqual(resolved.batchMaxEvents, 50)
      assert.strictEqual(resolved.groupCommit, "window")
      assert.strictEqual(resolved.dedupWindowNanos, 30_000_000_000n)
      // One Config of the whole input works the same.
      const whole = walConfigFromConfig(Config.succeed({ dir: "/tmp/v", dedupWindow: Duration.seconds(2) }))
      assert.strictEqual((yield* resolvedFrom(whole, env)).dedupWindowNanos, 2_000_000_000n)
    })
  )

  it.effect("a Config value out of bounds, or an unknown key, is still an InvalidConfigError naming it", () =>
    Effect.gen(function* () {
      const env = ConfigProvider.fromEnv({
        env: { WAL_DIR: "/tmp/w", WAL_WAIT: "2 minutes", WAL_MODE: "strict" }
      })
      const tooLong = walConfigFromConfig({
        dir: Config.String("WAL_DIR"),
        batchMaxWait: Config.Duration("WAL_WAIT")
      })
      const error = yield* Effect.flip(resolvedFrom(tooLong, env))
      assert.instanceOf(error, InvalidConfigError)
      assert.include(error.message, "batchMaxWait")
      assert.include(error.message, "60000 ms")
      // A record built at run time can carry a key the type would have refused.
      const misspelt = { dir: Config.String("WAL_DIR"), recoverymode: Config.String("WAL_MODE") }
      const unknownKey = yield* Effect.flip(
        resolvedFrom(walConfigFromConfig(misspelt as Config.Wrap<WalConfigInput>), env)
      )
      assert.instanceOf(unknownKey, InvalidConfigError)
      if (unknownKey instanceof InvalidConfigError) assert.strictEqual(unknownKey.field, "recoverymode")
    })
  )

  it.live("a WAL opens from a Config and appends", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const provider = ConfigProvider.fromEnv({ env: { WAL_DIR: dir, WAL_GROUP_COMMIT: "eager" } })
      const config = walConfigFromConfig({
        dir: Config.String("WAL_DIR"),
        groupCommit: Config.Literals(["window", "eager"], "WAL_GROUP_COMMIT")
      })
      const input = yield* config.parse(provider)
      const [wal] = yield* WalHandle.open(input)
      const seq = yield* wal.append({ entityId: 1n, signalType: 0, weight: 1, timestamp: 1n })
      assert.strictEqual(seq, 1n)
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})

describe("WalHandle.layerConfig", () => {
  const provided = (values: Record<string, string>) =>
    ConfigProvider.layer(ConfigProvider.fromUnknown(values))

  it.live(
    "opens a WAL from Config values; missing is a ConfigError, out of bounds an InvalidConfigError",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const layer = WalHandle.layerConfig({
          dir: Config.String("WAL_DIR"),
          batchMaxWait: Config.String("WAL_BATCH_WAIT"),
          groupCommit: Config.Literal("eager", "WAL_GROUP_COMMIT")
        })
        const seq = yield* Effect.scoped(
          Effect.flatMap(Layer.build(layer), (context) => Context.get(context, WalHandle).append(eventFor(1)))
        ).pipe(
          Effect.provide(provided({ WAL_DIR: dir, WAL_BATCH_WAIT: "3 millis", WAL_GROUP_COMMIT: "eager" }))
        )
        assert.strictEqual(seq, 1n)
        const missing = yield* Effect.flip(
          Effect.scoped(Layer.build(layer)).pipe(Effect.provide(provided({ WAL_DIR: dir })))
        )
        assert.strictEqual(missing._tag, "ConfigError")
        const outOfBounds = yield* Effect.flip(
          Effect.scoped(Layer.build(layer)).pipe(
            Effect.provide(provided({ WAL_DIR: dir, WAL_BATCH_WAIT: "2 hours", WAL_GROUP_COMMIT: "eager" }))
          )
        )
        assert.strictEqual(outOfBounds._tag, "InvalidConfigError")
      }).pipe(Effect.provide(nodeLayer))
  )
})
