/**
 * Round trips of the event record and batch codec over arbitrary events (fast-check), including
 * the u64 extremes and f32 rounding of `weight`.
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { encodeBatch, inspectBatch } from "../../src/internal/format/batchCodec.ts"
import { decodeEventRecord, encodeEventRecord } from "../../src/internal/format/eventRecord.ts"
import { arbitraryEvent, u64 } from "../support/arbitrary.ts"
import { decodeBatchForTest } from "../support/decode.ts"
import { stored } from "../support/wal.ts"

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
