/**
 * Format v1 (SPEC §2) against the independent vectors: every byte, both directions.
 */
import { existsSync, readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { blake3 as nobleBlake3 } from "@noble/hashes/blake3.js"
import { dedupKey } from "../../src/internal/dedup/dedupKey.ts"
import { encodeBatch, inspectBatch } from "../../src/internal/format/batchCodec.ts"
import { decodeCheckpoint, encodeCheckpoint } from "../../src/internal/format/checkpointRecord.ts"
import { decodeEventRecord, encodeEventRecord } from "../../src/internal/format/eventRecord.ts"
import { parseSegmentName, segmentName } from "../../src/internal/format/segmentName.ts"
import { decodeBatchForTest } from "../support/decode.ts"
import { fixtureVectorsPath, fromHex, hex, sharedVectorsPath, toEvent, vectors } from "../support/vectors.ts"

describe("format v1 vectors", () => {
  // ../shared exists only beside the development checkout: without it this shows as skipped.
  it.skipIf(!existsSync(sharedVectorsPath))(
    "the committed fixture is an exact copy of shared/vectors",
    () => {
      assert.strictEqual(readFileSync(fixtureVectorsPath, "utf8"), readFileSync(sharedVectorsPath, "utf8"))
    }
  )

  it("encodes and decodes every event record", () => {
    assert.isAtLeast(vectors.events.length, 5)
    for (const v of vectors.events) {
      const event = toEvent(v.event)
      assert.strictEqual(hex(encodeEventRecord(event)), v.record)
      const decoded = decodeEventRecord(fromHex(v.record))
      assert.deepStrictEqual(decoded, { ...event, weight: Math.fround(event.weight) })
    }
  })

  it("computes every dedup key, and noble's BLAKE3 agrees with ours", () => {
    for (const v of vectors.events) {
      const record = fromHex(v.record)
      assert.strictEqual(hex(dedupKey(record)), v.dedupKey)
      assert.strictEqual(hex(nobleBlake3(record).subarray(0, 16)), v.dedupKey)
    }
  })

  it("encodes every batch byte for byte and reads it back", () => {
    for (const v of vectors.batches) {
      const events = v.events.map(toEvent)
      const bytes = encodeBatch(BigInt(v.firstSeq), BigInt(v.batchTimestamp), events)
      assert.strictEqual(hex(bytes), v.bytes)
      const inspection = inspectBatch(fromHex(v.bytes), 0)
      assert.strictEqual(inspection._tag, "Valid")
      const decoded = decodeBatchForTest(fromHex(v.bytes))
      assert.strictEqual(decoded.firstSeq, BigInt(v.firstSeq))
      assert.strictEqual(decoded.batchTimestampNanos, BigInt(v.batchTimestamp))
      assert.deepStrictEqual(
        decoded.events,
        events.map((e) => ({ ...e, weight: Math.fround(e.weight) }))
      )
    }
  })

  it("the batch checksum is BLAKE3-256 of header[0..32] and the payload (checked with noble)", () => {
    for (const v of vectors.batches) {
      const bytes = fromHex(v.bytes)
      const input = new Uint8Array([...bytes.subarray(0, 32), ...bytes.subarray(64)])
      assert.strictEqual(hex(nobleBlake3(input)), hex(bytes.subarray(32, 64)))
    }
  })

  it("encodes and decodes every checkpoint file", () => {
    for (const v of vectors.checkpoints) {
      const record = { sequence: BigInt(v.sequence), timestampNanos: BigInt(v.timestamp) }
      assert.strictEqual(hex(encodeCheckpoint(record)), v.bytes)
      assert.deepStrictEqual(decodeCheckpoint(fromHex(v.bytes)), { _tag: "Valid", record })
    }
  })

  it("formats and parses every segment name", () => {
    for (const v of vectors.segmentNames) {
      assert.strictEqual(segmentName(BigInt(v.firstSeq)), v.name)
      assert.strictEqual(parseSegmentName(v.name), BigInt(v.firstSeq))
    }
    assert.isUndefined(parseSegmentName("wal-1.seg"))
    assert.isUndefined(parseSegmentName("wal-00000000000000000000.seg"))
    assert.isUndefined(parseSegmentName("wal-99999999999999999999.seg"))
  })
})
