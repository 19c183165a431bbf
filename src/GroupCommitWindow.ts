/**
 * Group-commit windows: how long the writer lets a batch fill before writing it, as an Effect
 * `Schedule` that the writer consults for every group that has to wait.
 *
 * The writer steps the schedule with what it knows when a group starts waiting — how many
 * events the group holds and how many the previous group held — and waits the delay the
 * schedule answers, or until the group holds `batchMaxEvents`. A schedule that ends makes
 * every later group go at once. A full group never consults it: under load no timer is set.
 *
 * - `GroupCommitWindow.window(Duration.millis(10))`: the classic window, `Schedule.spaced(wait)` (the default is
 *   10 ms with `batchMaxEvents` 100).
 * - `GroupCommitWindow.adaptive(Duration.millis(10))`: no wait for a lone sequential appender (the previous group
 *   held one event, so nobody else is appending), the full window as soon as callers overlap.
 * - any `Schedule<unknown, GroupCommitInput>` of your own.
 *
 * The config's `groupCommit` ("window" with `batchMaxWait`, or "eager") is the default; provide
 * `GroupCommitWindow.layer(schedule)` beside `WalHandle.layer` (or `GroupCommitSchedule` to `open`) to
 * use a schedule instead: a config stays plain data that `Config` and JSON can carry.
 *
 * @since 0.2.0
 */
import { Context, Duration, Effect, Layer, Schedule } from "effect"

/** What the writer tells the schedule at each step. @category models */
export interface GroupCommitInput {
  /** Events in the group that is about to wait. */
  readonly groupEvents: number
  /** Events in the group written before it (0 for the first). */
  readonly previousGroupEvents: number
  readonly batchMaxEvents: number
}

/** A group-commit window: its delays are the waits. @category models */
export type GroupCommitWindow = Schedule.Schedule<unknown, GroupCommitInput>

/** Waits `wait` for every group that is not full. @category constructors */
export const window = (wait: Duration.Duration): GroupCommitWindow => Schedule.spaced(wait)

/**
 * Waits up to `maxWait` when callers overlap, not at all for a lone appender: a sequential
 * caller then runs at the disk's sync rate instead of one append per window.
 *
 * @category constructors
 */
export const adaptive = (maxWait: Duration.Duration): GroupCommitWindow =>
  Schedule.fromStepWithMetadata(
    Effect.succeed((meta: Schedule.InputMetadata<GroupCommitInput>) =>
      Effect.succeed([meta.attempt, meta.input.previousGroupEvents <= 1 ? Duration.zero : maxWait] as [
        number,
        Duration.Duration
      ])
    )
  )

/**
 * The schedule the writer uses instead of the config's `groupCommit`, when one is provided.
 *
 * @category services
 */
export const GroupCommitSchedule = Context.Reference<GroupCommitWindow | undefined>(
  "tidal-wal/GroupCommitSchedule",
  { defaultValue: () => undefined }
)

/** Provides `schedule` as the group-commit window of the WALs opened under it. @category layers */
export const layer = (schedule: GroupCommitWindow): Layer.Layer<never> =>
  Layer.succeed(GroupCommitSchedule, schedule)
