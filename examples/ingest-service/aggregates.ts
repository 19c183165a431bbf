/**
 * The aggregates the service materializes from the WAL, and the fold that builds them: per
 * entity, how many events of each signal type it received, and a score that decays with event
 * time.
 *
 * Score: every event adds its `weight`, and a contribution halves every half-life of *event*
 * time (the events' own timestamps, never the wall clock), so replaying the same events always
 * gives the same score, however late or often they are replayed. An entity keeps its score as of
 * its newest event (`scoreAtNanos`): a newer event first decays the score to its own timestamp,
 * an older (late) one is added already decayed. `scoreAt` decays a score to any later moment, to
 * compare entities at one time.
 *
 * The fold is deterministic: the same events in the same sequence order give bit-identical
 * numbers, so a snapshot plus the events after it equals a fold of everything from the start.
 */
import { type ReplayedEvent, SignalType } from "../../src/index.ts"

/** One entity's aggregate. Mutable: the materializer updates it in place, in one synchronous step. */
export interface EntityAggregate {
  eventCount: number
  /** Events per signal type, keyed by name ("like"), or the number for a type without one. */
  readonly countsBySignal: Record<string, number>
  /** The decayed sum of weights, as of `scoreAtNanos`. */
  score: number
  /** The timestamp of the newest event applied (nanoseconds since the epoch). */
  scoreAtNanos: bigint
}

/** Everything materialized: the aggregates after applying events 1 to `appliedSeq`. */
export interface AggregateState {
  appliedSeq: bigint
  readonly entities: Map<bigint, EntityAggregate>
}

const SIGNAL_TYPE_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(SignalType).map(([name, signalType]) => [signalType, name])
)

/** "like" for 1; the number as a string for a type without a name. */
export const signalTypeName = (signalType: number): string =>
  SIGNAL_TYPE_NAMES.get(signalType) ?? String(signalType)

export const emptyAggregateState = (): AggregateState => ({ appliedSeq: 0n, entities: new Map() })

/** 2^(-elapsed / halfLife): the fraction of a contribution left after `elapsedNanos`. */
export const decayFactor = (elapsedNanos: bigint, halfLifeNanos: bigint): number =>
  2 ** -(Number(elapsedNanos) / Number(halfLifeNanos))

/** The entity's score decayed to `atNanos` (its own score if `atNanos` is not later). */
export const scoreAt = (aggregate: EntityAggregate, atNanos: bigint, halfLifeNanos: bigint): number =>
  atNanos <= aggregate.scoreAtNanos
    ? aggregate.score
    : aggregate.score * decayFactor(atNanos - aggregate.scoreAtNanos, halfLifeNanos)

/**
 * Applies the event with sequence number `appliedSeq + 1`. Any other sequence number means an
 * event would be counted twice or missed, so it throws: the materializer must stop, not guess.
 */
export const applyEvent = (state: AggregateState, event: ReplayedEvent, halfLifeNanos: bigint): void => {
  if (event.seq !== state.appliedSeq + 1n) {
    throw new Error(`materializer invariant broken: got seq ${event.seq} after ${state.appliedSeq}`)
  }
  const signal = signalTypeName(event.signalType)
  const aggregate = state.entities.get(event.entityId)
  if (aggregate === undefined) {
    state.entities.set(event.entityId, {
      eventCount: 1,
      countsBySignal: { [signal]: 1 },
      score: event.weight,
      scoreAtNanos: event.timestamp
    })
  } else {
    aggregate.eventCount += 1
    aggregate.countsBySignal[signal] = (aggregate.countsBySignal[signal] ?? 0) + 1
    if (event.timestamp >= aggregate.scoreAtNanos) {
      aggregate.score =
        aggregate.score * decayFactor(event.timestamp - aggregate.scoreAtNanos, halfLifeNanos) + event.weight
      aggregate.scoreAtNanos = event.timestamp
    } else {
      aggregate.score += event.weight * decayFactor(aggregate.scoreAtNanos - event.timestamp, halfLifeNanos)
    }
  }
  state.appliedSeq = event.seq
}
