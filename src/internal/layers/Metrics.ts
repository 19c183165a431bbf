/**
 * The WAL's metric series (`tidal_wal_*`, labelled with the directory), as a service: recovery
 * reports its duration and bytes, the writer its batches, syncs, latencies and queue depth.
 */
import { Context, Layer } from "effect"
import { makeWalMetrics, type WalMetrics } from "../metrics.ts"
import { WalDirectory } from "./WalDirectory.ts"

/** @internal */
export class Metrics extends Context.Service<Metrics, WalMetrics>()("tidal-wal/Metrics") {
  static readonly layer = Layer.effect(
    Metrics,
    WalDirectory.use(({ dir }) => makeWalMetrics(dir))
  )
}
