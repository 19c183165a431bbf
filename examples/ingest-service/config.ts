/**
 * The ingest service's settings, as one service every layer reads: where the data lives, how
 * fast scores decay, how often the materializer snapshots, and the WAL options it opens with.
 *
 * Everything lives under one data directory: the WAL in `<dir>/wal`, the materialized
 * aggregates in `<dir>/aggregates.json` (replaced atomically, see snapshot.ts).
 */
import { Context } from "effect"

export interface IngestSettings {
  /** The service's data directory. */
  readonly dataDir: string
  /** The WAL directory, `<dataDir>/wal`. */
  readonly walDir: string
  /** The snapshot of the aggregates, `<dataDir>/aggregates.json`. */
  readonly snapshotFile: string
  /** An event's contribution to its entity's score halves every `halfLifeNanos` of event time. */
  readonly halfLifeNanos: bigint
  /** How often the materializer snapshots (when something changed), checkpoints and truncates. */
  readonly snapshotIntervalMillis: number
  /** Truncate before a checkpoint only once it is this old (retention.ts); default: the dedup window. */
  readonly retentionLagMillis: number
  /** Passed to the WAL: how large a segment grows before the next one starts. */
  readonly segmentMaxBytes: number
  /** Passed to the WAL: how long a repeated event is recognised and not written again. */
  readonly dedupWindowMillis: number
  readonly host: string
  /** 0 picks a free port; the service prints the one it got. */
  readonly port: number
}

export class IngestConfig extends Context.Service<IngestConfig, IngestSettings>()(
  "examples/ingest-service/IngestConfig"
) {}
