/**
 * What recovery found and did (docs/FORMAT.md §6–§7): counts, what was cut and where the copies went.
 *
 * @since 0.1.0
 */

/** @category models */
export interface RecoveryReport {
  readonly segmentsScanned: number
  /** Bytes of segment files read. */
  readonly bytesScanned: number
  readonly batchesScanned: number
  readonly eventsReplayed: number
  /** Bytes cut from segments (each first copied to `quarantine/`). */
  readonly bytesTruncated: number
  /** Paths of the files written to or moved into `quarantine/`. */
  readonly filesQuarantined: ReadonlyArray<string>
  readonly checkpoint: bigint
  /** The last valid sequence number on disk (0 for an empty log). */
  readonly lastSeq: bigint
  readonly durationMillis: number
}
