/**
 * Holds on retention: while a hold is open, `truncateBefore` keeps every segment holding an event
 * at or after the hold's `fromSeq`.
 *
 * A consumer that ships or materializes the log elsewhere (the JetStream shipper) takes one at
 * its resume point and advances it as its copies are acknowledged, so no truncation, whoever
 * asks for it, can delete an event that exists nowhere else yet. A hold only moves forward, and
 * ends with its scope.
 */
import { Effect, type Scope } from "effect"

/** @category models */
export interface RetentionHold {
  /** Moves the hold to `seq` (events from `seq` on are kept); a `seq` below the current one is ignored. */
  readonly advanceTo: (seq: bigint) => Effect.Effect<void>
  /** The first sequence number the hold keeps. */
  readonly fromSeq: Effect.Effect<bigint>
}

export interface RetentionHolds {
  /** Opens a hold keeping events from `fromSeq` on, released when the scope closes. */
  readonly hold: (fromSeq: bigint) => Effect.Effect<RetentionHold, never, Scope.Scope>
  /** The lowest `fromSeq` of the open holds, or `undefined` when none is open. */
  readonly floor: () => bigint | undefined
}

export const makeRetentionHolds = (): RetentionHolds => {
  const open = new Set<{ fromSeq: bigint }>()
  return {
    hold: (fromSeq) =>
      Effect.acquireRelease(
        Effect.sync(() => {
          const entry = { fromSeq }
          open.add(entry)
          return entry
        }),
        (entry) => Effect.sync(() => open.delete(entry))
      ).pipe(
        Effect.map((entry) => ({
          advanceTo: (seq: bigint) =>
            Effect.sync(() => {
              if (seq > entry.fromSeq) entry.fromSeq = seq
            }),
          fromSeq: Effect.sync(() => entry.fromSeq)
        }))
      ),
    floor: () => {
      let lowest: bigint | undefined
      for (const entry of open) if (lowest === undefined || entry.fromSeq < lowest) lowest = entry.fromSeq
      return lowest
    }
  }
}
