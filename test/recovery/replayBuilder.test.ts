/**
 * The replay's two ways of holding records: a segment of large batches keeps its buffer (runs
 * between the batch headers, nothing copied), anything sparser is copied into one packed run.
 * Either way `at`, iteration and sequence numbers are the same.
 */
import { assert, describe, it } from "@effect/vitest"
import { encodeBatch } from "../../src/internal/format/batchCodec.ts"
import { BATCH_HEADER_BYTES, EVENT_RECORD_BYTES } from "../../src/internal/format/layout.ts"
import { ReplayBuilder } from "../../src/internal/recovery/ReplayedEvents.ts"
import { eventFor, storedFor } from "../support/wal.ts"

/** A segment's bytes: batches of `sizes[i]` events, numbered from `firstSeq`. */
const segmentOf = (firstSeq: number, sizes: ReadonlyArray<number>) => {
  const batches: Array<Uint8Array> = []
  let seq = firstSeq
  for (const size of sizes) {
    batches.push(
      encodeBatch(
        BigInt(seq),
        1n,
        Array.from({ length: size }, (_, i) => eventFor(seq + i))
      )
    )
    seq += size
  }
  const bytes = new Uint8Array(batches.reduce((n, b) => n + b.byteLength, 0))
  let offset = 0
  const payloads: Array<{ start: number; end: number }> = []
  for (const batch of batches) {
    bytes.set(batch, offset)
    payloads.push({ start: offset + BATCH_HEADER_BYTES, end: offset + batch.byteLength })
    offset += batch.byteLength
  }
  return { bytes, payloads }
}

describe("ReplayBuilder", () => {
  it("keeps a dense segment's buffer, copies a sparse one, and reads both back in order", () => {
    const builder = new ReplayBuilder()
    // Dense: 100-event batches, records fill 97 % of the bytes.
    const dense = segmentOf(1, [100, 100, 100])
    for (const [i, p] of dense.payloads.entries())
      builder.add(dense.bytes, p.start, p.end, BigInt(1 + i * 100))
    assert.isTrue(builder.seal())
    // Sparse: one-event batches, records fill a quarter of the bytes.
    const sparse = segmentOf(301, [1, 1, 1, 1])
    for (const [i, p] of sparse.payloads.entries()) builder.add(sparse.bytes, p.start, p.end, BigInt(301 + i))
    assert.isFalse(builder.seal())
    // The copied segment's buffer may now be reused: overwriting it changes nothing.
    sparse.bytes.fill(0xff)
    const replayed = builder.build()
    assert.strictEqual(replayed.length, 304)
    assert.strictEqual(replayed.firstSeq, 1n)
    const all = [...replayed]
    assert.strictEqual(all.length, 304)
    all.forEach((event, i) => {
      assert.deepStrictEqual(event, { seq: BigInt(i + 1), ...storedFor(i + 1) })
      assert.deepStrictEqual(replayed.at(i), event)
    })
    assert.deepStrictEqual(replayed.at(-1), all[303])
    assert.isUndefined(replayed.at(304))
    // The kept buffer whole, the packed copy, and the run index.
    assert.isAtLeast(replayed.retainedBytes, dense.bytes.byteLength + 4 * EVENT_RECORD_BYTES)
    assert.isBelow(replayed.retainedBytes / replayed.length, 24)
  })

  it("a segment mostly below the checkpoint is copied: only the part replayed is retained", () => {
    const builder = new ReplayBuilder()
    const segment = segmentOf(1, [100, 100, 100])
    const last = segment.payloads[2]
    if (last === undefined) throw new Error("three batches")
    // Replay starts at event 290: the last ten records of the last batch.
    builder.add(segment.bytes, last.end - 10 * EVENT_RECORD_BYTES, last.end, 291n)
    assert.isFalse(builder.seal())
    const replayed = builder.build()
    assert.deepStrictEqual(
      [...replayed].map((e) => e.seq),
      Array.from({ length: 10 }, (_, i) => BigInt(291 + i))
    )
    assert.deepStrictEqual(replayed.at(0), { seq: 291n, ...storedFor(291) })
    assert.isBelow(replayed.retainedBytes, 10 * EVENT_RECORD_BYTES + 64)
  })

  it("weighs the whole buffer behind a view, and copies when ranges of a second buffer arrive before a seal", () => {
    const builder = new ReplayBuilder()
    const segment = segmentOf(1, [100, 100])
    // A reused read buffer twice the segment's size: keeping it would hold twice the bytes.
    const larger = new Uint8Array(segment.bytes.byteLength * 2)
    larger.set(segment.bytes)
    const view = larger.subarray(0, segment.bytes.byteLength)
    for (const [i, p] of segment.payloads.entries()) builder.add(view, p.start, p.end, BigInt(1 + i * 100))
    assert.isFalse(builder.seal())
    larger.fill(0)
    // Two sources, one seal: the first is copied out when the second arrives.
    const next = segmentOf(201, [100])
    const again = segmentOf(301, [100])
    const [a] = next.payloads
    const [b] = again.payloads
    if (a === undefined || b === undefined) throw new Error("one batch each")
    builder.add(next.bytes, a.start, a.end, 201n)
    builder.add(again.bytes, b.start, b.end, 301n)
    next.bytes.fill(0)
    assert.isTrue(builder.seal())
    const replayed = builder.build()
    assert.strictEqual(replayed.length, 400)
    ;[...replayed].forEach((event, i) => {
      assert.deepStrictEqual(event, { seq: BigInt(i + 1), ...storedFor(i + 1) })
    })
  })
})
