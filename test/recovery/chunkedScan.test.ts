/**
 * A segment read in chunks is read as if it were one buffer: the scan (every batch, where the valid
 * prefix ends, why) and the damage decision of segment/logRule.ts are the same whatever the chunk
 * size, for logs with damage anywhere, batches straddling every boundary and intact batches past
 * the damage. Plus the two things chunking adds: a batch header claiming more than the largest
 * batch is damage (`BadPayloadLength`), never a reason to read further; and recovery of a segment
 * larger than one chunk replays every event, though the replay keeps chunk buffers as it goes.
 *
 * The property's seed is printed; `CHUNK_SEED` reruns it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem, Path } from "effect"
import { encodeBatch } from "../../src/internal/format/batchCodec.ts"
import { segmentName } from "../../src/internal/format/segmentName.ts"
import { READ_CHUNK_BYTES } from "../../src/internal/fs/durable.ts"
import { recover } from "../../src/internal/recovery/recover.ts"
import { classifyDamage } from "../../src/internal/segment/logRule.ts"
import {
  MAX_BATCH_BYTES,
  type ScannedBatch,
  type SegmentScan,
  scanSegment,
  scanSegmentFile
} from "../../src/internal/segment/segmentScanner.ts"
import { makeRng, type Rng } from "../support/sim/rng.ts"
import { eventFor, nodeLayer, tempDir } from "../support/wal.ts"

const SEED = Number(process.env.CHUNK_SEED ?? Math.floor(Math.random() * 2 ** 31))
const CASES = 80

/** Batches of 1..`maxEvents` events from sequence number 1, back to back. */
const segmentBytes = (rng: Rng, batches: number, maxEvents: number): Uint8Array => {
  const parts: Array<Uint8Array> = []
  let seq = 1
  for (let b = 0; b < batches; b++) {
    const count = rng.int(1, maxEvents)
    parts.push(
      encodeBatch(
        BigInt(seq),
        BigInt(b),
        Array.from({ length: count }, (_, i) => eventFor(seq + i))
      )
    )
    seq += count
  }
  return Buffer.concat(parts)
}

/** One random kind of damage, or none. */
const damage = (rng: Rng, bytes: Uint8Array): Uint8Array => {
  if (bytes.byteLength === 0) return bytes
  const at = rng.int(0, bytes.byteLength - 1)
  const out = Buffer.from(bytes)
  switch (rng.int(0, 5)) {
    case 0:
      return out
    case 1:
      return out.subarray(0, at)
    case 2:
      out.fill(0, at, Math.min(out.byteLength, at + rng.int(1, 3000)))
      return out
    case 3:
      out[at] = (out[at] ?? 0) ^ (1 << rng.int(0, 7))
      return out
    case 4:
      return Buffer.concat([
        out,
        Buffer.from(Array.from({ length: rng.int(1, 5000) }, () => rng.int(0, 255)))
      ])
    default:
      return Buffer.concat([out, new Uint8Array(rng.int(1, 5000))])
  }
}

const describeBatch = (batch: ScannedBatch) =>
  `${batch.offsetBytes}:${batch.header.firstSeq}:${Buffer.from(batch.payload).toString("hex")}`

describe("a segment read in chunks", () => {
  it.effect(
    `scans and classifies damage exactly as one buffer, ${CASES} random segments from seed ${SEED}`,
    () =>
      Effect.gen(function* () {
        console.log(`chunked scan seed: ${SEED} (rerun with CHUNK_SEED=${SEED})`)
        const fs = yield* FileSystem.FileSystem
        const dir = yield* tempDir
        for (let c = 0; c < CASES; c++) {
          const rng = makeRng(SEED + c)
          const bytes = damage(rng, segmentBytes(rng, rng.int(0, 25), rng.pick([1, 5, 40])))
          const file = `${dir}/segment-${c}`
          yield* fs.writeFile(file, bytes)
          const whole: Array<string> = []
          const wholeScan = scanSegment(bytes, 1n, (batch) => whole.push(describeBatch(batch)))
          const chunkBytes = rng.int(1, 3000)
          const chunked: Array<string> = []
          const scanned = yield* scanSegmentFile(fs, file, 1n, {
            onBatch: (batch) => chunked.push(describeBatch(batch)),
            buffer: { buffer: new Uint8Array(0) },
            chunkBytes
          })
          const label = `case ${c} (CHUNK_SEED=${SEED + c} covers it alone), chunks of ${chunkBytes} bytes`
          assert.deepStrictEqual(chunked, whole, label)
          assert.deepStrictEqual(scanned.scan, wholeScan, label)
          const problem = wholeScan.problem
          if (problem === undefined) continue
          const classify = (scan: SegmentScan, chunkSize: number, fromChunk: boolean) =>
            classifyDamage(problem, {
              fs,
              path: file,
              chunk: fromChunk ? scanned.lastChunk : undefined,
              scratch: { buffer: new Uint8Array(0) },
              isLastSegment: true,
              checkpoint: 0n,
              expectedSeq: scan.lastSeq + 1n,
              chunkBytes: chunkSize
            })
          const inOneBuffer = yield* classify(wholeScan, bytes.byteLength + 1, false)
          assert.deepStrictEqual(yield* classify(scanned.scan, chunkBytes, true), inOneBuffer, label)
          assert.deepStrictEqual(yield* classify(scanned.scan, chunkBytes, false), inOneBuffer, label)
        }
      }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.effect(
    "a header claiming a batch larger than the largest is BadPayloadLength, and nothing more is read",
    () =>
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const dir = yield* tempDir
        const rng = makeRng(1)
        const good = segmentBytes(rng, 3, 10)
        const liar = encodeBatch(100n, 0n, [eventFor(100)])
        new DataView(liar.buffer).setUint32(12, MAX_BATCH_BYTES, true) // payload_len: 64 bytes too many
        const file = `${dir}/segment`
        yield* fs.writeFile(file, Buffer.concat([good, liar, new Uint8Array(MAX_BATCH_BYTES)]))
        const scanned = yield* scanSegmentFile(fs, file, 1n, {
          onBatch: () => {},
          buffer: { buffer: new Uint8Array(0) },
          chunkBytes: 4096
        })
        assert.strictEqual(scanned.scan.batchCount, 3)
        assert.strictEqual(scanned.scan.problem?.offsetBytes, good.byteLength)
        assert.strictEqual(
          scanned.scan.problem?._tag === "Invalid" && scanned.scan.problem.reason,
          "BadPayloadLength"
        )
        assert.strictEqual(scanned.bytesRead, 4096, "one chunk: the claim is not followed")
      }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.effect("recovery of a segment larger than a chunk replays every event, keeping each full chunk", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const dir = yield* tempDir
      // 1,000-event batches (21,064 bytes) until just past one and a half chunks.
      const batches: Array<Uint8Array> = []
      let events = 0
      for (let size = 0; size < READ_CHUNK_BYTES * 1.5; ) {
        const batch = encodeBatch(
          BigInt(events + 1),
          BigInt(events),
          Array.from({ length: 1000 }, (_, i) => eventFor(events + 1 + i))
        )
        batches.push(batch)
        size += batch.byteLength
        events += 1000
      }
      yield* fs.writeFile(path.join(dir, segmentName(1n)), Buffer.concat(batches))
      const recovered = yield* recover(fs, path, {
        dir,
        recoveryMode: "strict",
        replay: "collect",
        recentSinceNanos: BigInt(events - 5000)
      })
      assert.strictEqual(recovered.report.batchesScanned, batches.length)
      assert.strictEqual(recovered.replayed.length, events)
      let expected = 1
      for (const event of recovered.replayed) {
        if (event.seq !== BigInt(expected) || event.entityId !== eventFor(expected).entityId) {
          assert.fail(`event ${expected} replayed as seq ${event.seq}, entity ${event.entityId}`)
        }
        expected++
      }
      // Both chunks were kept whole (their records fill them), none was overwritten by the next.
      assert.isAbove(recovered.replayed.retainedBytes, READ_CHUNK_BYTES)
      // The keys of the batches stamped at or after `recentSinceNanos`: the last five.
      assert.strictEqual(recovered.recentKeyCount, 5000)
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})
