/**
 * Retention: which prefix of the WAL the materializer may delete with `truncateBefore`.
 *
 * Everything up to the checkpoint is in a durable snapshot, so truncating right up to it loses no
 * aggregate. But it would lose something else: on open the WAL seeds its dedup window from the
 * batches still on disk, so a client that retries an event after a restart is told "duplicate"
 * only if that event's segment still exists. Hence the lag: the service truncates before a
 * checkpoint only once that checkpoint is `lagMillis` old. With the lag at least the dedup
 * window (the default), every event written within the window is still on disk: it was written
 * after that checkpoint was taken, so its seq is above it.
 */

export interface RetentionClock {
  /** Notes that `checkpointSeq` was made durable at `nowMillis`. */
  readonly recordCheckpoint: (checkpointSeq: bigint, nowMillis: number) => void
  /** The newest checkpoint at least `lagMillis` old at `nowMillis`, if any: truncate before it. */
  readonly truncatableBefore: (nowMillis: number) => bigint | undefined
}

export const makeRetentionClock = (lagMillis: number): RetentionClock => {
  // Checkpoints not yet old enough, oldest first; at most one per snapshot interval of the lag.
  const pending: Array<{ readonly seq: bigint; readonly atMillis: number }> = []
  let oldEnough: bigint | undefined
  return {
    recordCheckpoint: (seq, atMillis) => {
      pending.push({ seq, atMillis })
    },
    truncatableBefore: (nowMillis) => {
      for (
        let first = pending[0];
        first !== undefined && first.atMillis <= nowMillis - lagMillis;
        first = pending[0]
      ) {
        oldEnough = first.seq
        pending.shift()
      }
      return oldEnough
    }
  }
}
