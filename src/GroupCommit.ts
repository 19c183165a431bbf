/**
 * Group-commit windows: how long the writer lets a batch fill before writing it, as an Effect
 * `Schedule` that the writer consults for every group that has to wait.
 *
 * The writer steps the schedule with what it knows when a group starts waiting — how many
 * events the group holds and how many the previous group held — and waits the delay the
 * schedule answers, or until the group holds `batchMaxEvents`. A schedule that ends makes
 * every later group go at once. A full group never consults it: under load no timer is set.
 *
 * - `GroupCommit.window(Duration.millis(10))`: the classic window, `Schedule.spaced(wait)` (the default is
 *   10 ms with `batchMaxEvents` 100).
 * - `GroupCommit.adaptive(Duration.millis(10))`: no wait for a lone sequential appender (the previous group
 *   held one event, so nobody else is appending), the full window as soon as callers overlap.
 * - any `Schedule<unknown, GroupCommitInput>` of your own.
 *
 * @since 0.2.0
 */
import { Duration, Effect, Schedule } from "effect"

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
