/**
 * fast-check generators for events, covering the u64 extremes and f32 edge values.
 */
import fc from "fast-check"
import { F32_MAX, type SignalEvent } from "../../src/index.ts"

const U64_MAX = 2n ** 64n - 1n
export const u64 = fc.oneof(
  fc.constantFrom(0n, 1n, U64_MAX, U64_MAX - 1n, 2n ** 63n),
  fc.bigInt({ min: 0n, max: U64_MAX })
)
const weight = fc.oneof(
  fc.constantFrom(0, -0, F32_MAX, -F32_MAX, 0.1, 1e-45, -1e-46),
  fc.double({ min: -F32_MAX, max: F32_MAX, noNaN: true })
)
export const arbitraryEvent: fc.Arbitrary<SignalEvent> = fc.record({
  entityId: u64,
  signalType: fc.integer({ min: 0, max: 255 }),
  weight,
  timestamp: u64
})
