/**
 * The WAL service: open a directory, append signal events durably, replay them after a restart,
 * checkpoint and truncate (docs/FORMAT.md says what is on disk and what recovery guarantees).
 *
 * `WalHandle.layer(config)` and the scoped `WalHandle.open(config)` build the same graph of
 * Layers — the directory lock, recovery, checkpoints, the dedup window, the segment files and the
 * writer — and release it in reverse: on close the queue is drained and synced, the files closed
 * and the lock released. Every append completes only after the batch holding it is synced.
 *
 * @since 0.1.0
 */
import { type Config, Context, Effect, type FileSystem, Layer, type Path, type Scope } from "effect"
import { openWal } from "./internal/layers/walLayer.ts"
import type { ReplayedEvents } from "./internal/recovery/ReplayedEvents.ts"
import type { WalHandleShape } from "./internal/wal/WalHandleShape.ts"
import { type WalConfigInput, walConfigFromConfig } from "./WalConfig.ts"
import type {
  CorruptionError,
  InvalidConfigError,
  IoError,
  LockedError,
  UnsupportedVersionError
} from "./WalError.ts"

export type { WalHandleShape } from "./internal/wal/WalHandleShape.ts"

/** Every way `open` can fail. @category errors */
export type OpenError = InvalidConfigError | IoError | CorruptionError | UnsupportedVersionError | LockedError

/** @category services */
export class WalHandle extends Context.Service<WalHandle, WalHandleShape>()("tidal-wal/WalHandle") {
  /**
   * Opens the WAL in the current scope; closing the scope shuts it down. Any `config` — `null`,
   * a Proxy, unknown keys, values out of bounds — that is not a valid `WalConfigInput` fails
   * with `InvalidConfigError` naming the field, before the directory is touched.
   */
  static readonly open = (
    config: WalConfigInput
  ): Effect.Effect<
    readonly [WalHandleShape, ReplayedEvents],
    OpenError,
    FileSystem.FileSystem | Path.Path | Scope.Scope
  > => openWal(config)

  /** A layer providing `WalHandle`; releasing the layer shuts the WAL down. */
  static readonly layer = (
    config: WalConfigInput
  ): Layer.Layer<WalHandle, OpenError, FileSystem.FileSystem | Path.Path> =>
    Layer.effect(
      WalHandle,
      Effect.map(openWal(config), ([handle]) => handle)
    )

  /**
   * `layer`, with the configuration read from `Config` values, as `NodeHttpServer.layerConfig`
   * and the sql clients do: `WalHandle.layerConfig({ dir: Config.String("WAL_DIR"), batchMaxWait:
   * Config.succeed("5 millis") })`, or `Config.schema(WalConfig, "wal")` for the whole record. A
   * value missing or malformed is a `ConfigError`; one out of bounds an `InvalidConfigError`.
   */
  static readonly layerConfig = (
    config: Config.Wrap<WalConfigInput>
  ): Layer.Layer<WalHandle, OpenError | Config.ConfigError, FileSystem.FileSystem | Path.Path> =>
    Layer.unwrap(Effect.map(walConfigFromConfig(config), WalHandle.layer))
}
