/**
 * The dedup window (docs/FORMAT.md §10 "Deduplication"): two key tables, current and previous, rotated by
 * `Clock` every `dedupWindow`.
 *
 * Rotation is computed from the clock whenever the writer asks (`advanceTo`), not by a timer
 * fiber, so boundaries are exact under `TestClock` and an idle WAL does no work: a key remembered
 * in window k is a duplicate until the start of window k + 2. Keys enter only through `remember`,
 * which the writer calls after a batch is durable.
 */
import { Clock, Context, Effect, Layer } from "effect"
import { KeyTable } from "./KeyTable.ts"

export interface DedupWindowShape {
  /** Rotates the tables for every window boundary passed by `nowNanos`. */
  readonly advanceTo: (nowNanos: bigint) => void
  /** Brings the slots of keys `0 .. count - 1` into cache before they are looked up one by one. */
  readonly prefetch: (keys: Uint32Array, count: number) => void
  /** Whether key `index` of `keys` (4 words a key) is in either table. */
  readonly contains: (keys: Uint32Array, index: number) => boolean
  /** Adds the first `count` keys of `keys` to the current table. */
  readonly remember: (keys: Uint32Array, count: number) => void
  readonly windowNanos: bigint
  readonly size: () => number
  readonly retainedBytes: () => number
}

export class DedupWindow extends Context.Service<DedupWindow, DedupWindowShape>()("tidal-wal/DedupWindow") {
  /** A window of `windowNanos`, whose first period starts now (by `Clock`). */
  static readonly make = (windowNanos: bigint): Effect.Effect<DedupWindowShape> =>
    Effect.map(Clock.currentTimeNanos, (startNanos) => makeDedupWindow(windowNanos, startNanos))

  static readonly layer = (windowNanos: bigint): Layer.Layer<DedupWindow> =>
    Layer.effect(DedupWindow, DedupWindow.make(windowNanos))
}

/**
 * No deduplication: every event is written, nothing is remembered, so appends cost no table
 * lookups and the window holds no memory. For callers whose events are unique by construction.
 */
export const disabledDedupWindow: DedupWindowShape = {
  windowNanos: 0n,
  advanceTo: () => {},
  prefetch: () => {},
  contains: () => false,
  remember: () => {},
  size: () => 0,
  retainedBytes: () => 0
}

export const makeDedupWindow = (windowNanos: bigint, startNanos: bigint): DedupWindowShape => {
  let current = new KeyTable()
  let previous = new KeyTable()
  let periodStartNanos = startNanos

  return {
    windowNanos,
    advanceTo: (nowNanos) => {
      if (nowNanos - periodStartNanos < windowNanos) return
      const periods = (nowNanos - periodStartNanos) / windowNanos
      periodStartNanos += periods * windowNanos
      if (periods >= 2n) {
        current.clear()
        previous.clear()
        return
      }
      // The next period is sized like the one that just ended: its table neither grows key by
      // key nor is faulted in afresh (KeyTable.clear).
      const dropped = previous
      previous = current
      dropped.clear(current.size)
      current = dropped
    },
    prefetch: (keys, count) => {
      current.prefetch(keys, count)
      previous.prefetch(keys, count)
    },
    contains: (keys, index) => current.hasKey(keys, index) || previous.hasKey(keys, index),
    remember: (keys, count) => {
      for (let i = 0; i < count; i++) current.addKey(keys, i)
    },
    size: () => current.size + previous.size,
    retainedBytes: () => current.retainedBytes + previous.retainedBytes
  }
}
