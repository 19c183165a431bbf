/**
 * The directory this WAL owns: the decoded config, the directory made durable and resolved to its
 * real path, its lock held for the life of the layer, and its identity (`wal-id`).
 *
 * Everything else in the WAL is built on this service, so it is acquired first and released
 * last: the lock outlives every file the WAL has open. A failure after the lock is taken (the
 * identity file damaged, say) releases it at once, so the caller can retry in the same scope.
 */
import { Context, Effect, FileSystem, Layer, Path } from "effect"
import { decodeWalConfig, type ResolvedWalConfig, type WalConfigInput } from "../../WalConfig.ts"
import { canonicalDirectory, DirectoryLocker } from "../fs/directoryLock.ts"
import { makeDirectoryDurable } from "../fs/durable.ts"
import { readOrCreateWalId } from "../fs/walIdentity.ts"

export interface WalDirectoryShape {
  readonly config: ResolvedWalConfig
  /** The directory's real path: one directory, one `dir`, whatever the spelling the caller used. */
  readonly dir: string
  readonly walId: string
}

/** @internal */
export class WalDirectory extends Context.Service<WalDirectory, WalDirectoryShape>()(
  "tidal-wal/WalDirectory"
) {
  static readonly layer = (input: WalConfigInput) =>
    Layer.effect(
      WalDirectory,
      Effect.gen(function* () {
        // The input is read only by the decode (once, whatever it is): `open(null)` or a throwing
        // `dir` getter is an InvalidConfigError, before the directory is touched.
        const config = yield* decodeWalConfig(input)
        yield* Effect.annotateCurrentSpan("wal.dir", config.dir)
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const requestedDir = path.resolve(config.dir)
        yield* makeDirectoryDurable(fs, path, requestedDir)
        const dir = yield* canonicalDirectory(fs, requestedDir)
        const locker = yield* DirectoryLocker
        // Released when the layer is, after everything built on it; at once if the rest fails.
        yield* locker.acquire(dir)
        const walId = yield* readOrCreateWalId(fs, path, dir)
        return { config, dir, walId }
      })
    )
}
