/**
 * The events every side-by-side case appends, built in the caller from prepared plain values —
 * what an HTTP service holds after `JSON.parse`: the two u64 fields as decimal strings (JSON has
 * no 64-bit integers), the type and weight as numbers.
 *
 * Each case pays, per event, what such a service pays to hand an event to its store: the WAL
 * cases `BigInt(...)` the strings into a fresh `SignalEvent`, SQLite binds the same conversions,
 * the raw loops encode the 21-byte record straight into the batch buffer. The pool is small
 * (reused, so it costs no GC), yet no event repeats within a case: the dedup window would drop a
 * repeat, which would then be acknowledged without being written. Event `k` takes entity id
 * `k mod 4093` and timestamp `k mod 4096`; the two lengths are coprime, so the pair first repeats
 * after 4093 × 4096 ≈ 16.8 million events, far more than a case of a few seconds appends
 * (bench/walCase.ts fails a case that would get that far).
 *
 * It imports nothing of the library at run time, so that the A/B harness loads only the library
 * under test (bench/peerCases.ts checks `encodeInto` against the codec).
 */

import type { SignalEvent } from "../src/SignalEvent.ts"
import { xorshiftWords } from "../test/support/words.ts"

const ENTITY_IDS = 4093
const TIMESTAMPS = 4096
const WEIGHTS = 64

/** Events before the first repeated (entity id, timestamp) pair. */
export const UNIQUE_EVENTS = ENTITY_IDS * TIMESTAMPS

export interface EventPool {
  /** Event `k`'s values as a service holds them after `JSON.parse`. */
  readonly entityId: (k: number) => string
  readonly signalType: (k: number) => number
  readonly weight: (k: number) => number
  readonly timestamp: (k: number) => string
  /** Event `k` as the WAL takes it: a fresh object, its u64 fields parsed from the strings. */
  readonly signalEvent: (k: number) => SignalEvent
  /** Encodes event `k` as the 21-byte record at `offset` of `view`, without an event object. */
  readonly encodeInto: (view: DataView, offset: number, k: number) => void
}

export const makeEventPool = (seed = 0x5eed): EventPool => {
  const words = xorshiftWords(seed)
  // Snowflake-like ids of up to 19 digits, below 2^63 so that SQLite's signed INTEGER holds them.
  const entityIds = Array.from({ length: ENTITY_IDS }, () =>
    ((BigInt(words() & 0x7fff_ffff) << 32n) | BigInt(words())).toString()
  )
  const baseNanos = BigInt(Date.now()) * 1_000_000n
  const timestamps = Array.from({ length: TIMESTAMPS }, (_, j) => (baseNanos + BigInt(j) * 977n).toString())
  const weights = Array.from({ length: WEIGHTS }, (_, j) => Math.round((j / WEIGHTS) * 1000) / 1000 + 0.25)
  const entityId = (k: number): string => entityIds[k % ENTITY_IDS] ?? "0"
  const signalType = (k: number): number => k & 3
  const weight = (k: number): number => weights[k & (WEIGHTS - 1)] ?? 0
  const timestamp = (k: number): string => timestamps[k & (TIMESTAMPS - 1)] ?? "0"

  const pool: EventPool = {
    entityId,
    signalType,
    weight,
    timestamp,
    signalEvent: (k) => ({
      entityId: BigInt(entityId(k)),
      signalType: signalType(k),
      weight: weight(k),
      timestamp: BigInt(timestamp(k))
    }),
    // The record layout of docs/FORMAT.md §2 ("Event record: 21 bytes, packed"), little-endian.
    encodeInto: (view, offset, k) => {
      view.setBigUint64(offset, BigInt(entityId(k)), true)
      view.setUint8(offset + 8, signalType(k))
      view.setFloat32(offset + 9, weight(k), true)
      view.setBigUint64(offset + 13, BigInt(timestamp(k)), true)
    }
  }
  return pool
}
