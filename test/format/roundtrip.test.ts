/**
 * Round trips of the event record and batch codec over arbitrary events (fast-check), including
 * the u64 extremes and f32 rounding of `weight`.
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { encodeBatch, inspectBatch } from "../../src/internal/format/batchCodec.ts"
import { decodeEventRecord, encodeEventRecord } from "../../src/internal/format/eventRecord.ts"
import { F32_MAX, type SignalEvent } from "../../src/index.ts"
import { decodeBatchForTest } from "../support/decode.ts"

const U64_MAX = 2n ** 64n - 1n
const u64 = fc.oneof(fc.constantFrom(0n, 1n, U64_MAX, U64_MAX - 1n, 2n ** 63n), fc.bigInt({ min: 0n, max: U64_MAX }))
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

const stored = (e: SignalEvent): SignalEvent => ({ ...e, weight: Math.fround(e.weight) })

describe("format v1 round trips", () => {
  it("decode(encode(event)) is the event with weight rounded to f32", () => {
    fc.assert(
      fc.property(arbitraryEvent, (event) => {
        const decoded = decodeEventRecord(encodeEventRecord(event))
        assert.deepStrictEqual(decoded, stored(event))
        assert.isTrue(Number.isFinite(decoded.weight))
        // Encoding the stored value again is exact: f32 rounding is idempotent.
        assert.deepStrictEqual(decodeEventRecord(encodeEventRecord(decoded)), decoded)
      }),
      { numRuns: 2000 }
    )
  })

  it("a batch of arbitrary events decodes to the same events and passes inspection", () => {
    fc.assert(
      fc.property(
        fc.array(arbitraryEvent, { minLength: 1, maxLength: 50 }),
        fc.bigInt({ min: 1n, max: 2n ** 60n }),
        u64,
        (events, firstSeq, timestamp) => {
          const bytes = encodeBatch(firstSeq, timestamp, events)
          assert.strictEqual(bytes.byteLength, 64 + 21 * events.length)
          assert.strictEqual(inspectBatch(bytes, 0)._tag, "Valid")
          const decoded = decodeBatchForTest(bytes)
          assert.strictEqual(decoded.firstSeq, firstSeq)
          assert.strictEqual(decoded.batchTimestampNanos, timestamp)
          assert.deepStrictEqual(decoded.events, events.map(stored))
        }
      ),
      { numRuns: 300 }
    )
  })
})
