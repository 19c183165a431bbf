/**
 * (c) Recovery: opening and replaying a 64 MiB log, beside reading and BLAKE3-hashing the same
 * bytes raw — whole files, and each batch on its own as recovery must (the same work as
 * recovery's checks, file after file on one thread; the open overlaps its reads with hashing, so
 * it can beat this); and the bytes the replay retains per event.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, type FileSystem, type Path } from "effect"
import { WalHandle } from "../src/index.ts"
import { batchSizeBytes, encodeBatch } from "../src/internal/format/batchCodec.ts"
import { blake3, blake3Into } from "../src/internal/format/checksum.ts"
import {
  BATCH_CHECKSUMMED_HEADER_BYTES,
  BATCH_HEADER_BYTES,
  CHECKSUM_BYTES
} from "../src/internal/format/layout.ts"
import { segmentName } from "../src/internal/format/segmentName.ts"

export interface RecoveryRow {
  readonly logBytes: number
  readonly events: number
  readonly openMillis: number
  readonly rawMillis: number
  readonly ratio: number
  /** Raw read + BLAKE3 of each batch on its own, as recovery must check them, file after file. */
  readonly rawPerBatchMillis: number
  readonly retainedBytesPerEvent: number
}

const SEGMENT_BYTES = 16 * 1024 * 1024
const EVENTS_PER_BATCH = 100
const ROUNDS = 5

/** Writes segments of full batches straight to disk (no WAL, no fsync): just the bytes to recover. */
export const buildLog = (dir: string, logBytes: number): number => {
  const batchBytes = batchSizeBytes(EVENTS_PER_BATCH)
  const batchesPerSegment = Math.floor(SEGMENT_BYTES / batchBytes)
  let batchesLeft = Math.floor(logBytes / batchBytes)
  let seq = 1n
  while (batchesLeft > 0) {
    const parts: Array<Uint8Array> = []
    const firstSeq = seq
    for (let b = 0; b < batchesPerSegment && batchesLeft > 0; b++, batchesLeft--) {
      const events = Array.from({ length: EVENTS_PER_BATCH }, (_, i) => ({
        entityId: seq + BigInt(i),
        signalType: i & 3,
        weight: 0.5,
        timestamp: 1_700_000_000_000_000_000n + seq + BigInt(i)
      }))
      // Old batch timestamps: the dedup window is not seeded, so this measures recovery alone.
      parts.push(encodeBatch(seq, 1n, events))
      seq += BigInt(EVENTS_PER_BATCH)
    }
    writeFileSync(join(dir, segmentName(firstSeq)), Buffer.concat(parts))
  }
  return Number(seq - 1n)
}

const rawReadAndHash = (dir: string, names: ReadonlyArray<string>): number => {
  const start = performance.now()
  for (const name of names) blake3(readFileSync(join(dir, name)))
  return performance.now() - start
}

/** The files read, and each batch's checksummed bytes hashed on their own (the files hold only whole batches). */
const rawReadAndHashPerBatch = (dir: string, names: ReadonlyArray<string>): number => {
  const batchBytes = batchSizeBytes(EVENTS_PER_BATCH)
  const checksum = new Uint8Array(CHECKSUM_BYTES)
  const start = performance.now()
  for (const name of names) {
    const bytes = readFileSync(join(dir, name))
    for (let offset = 0; offset + batchBytes <= bytes.length; offset += batchBytes) {
      const header = bytes.subarray(offset, offset + BATCH_CHECKSUMMED_HEADER_BYTES)
      blake3Into(header, bytes.subarray(offset + BATCH_HEADER_BYTES, offset + batchBytes), checksum, 0)
    }
  }
  return performance.now() - start
}

export const runRecovery = (
  baseDir: string,
  logBytes: number
): Effect.Effect<RecoveryRow, unknown, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const dir = join(baseDir, "recovery")
    mkdirSync(dir, { recursive: true })
    const events = buildLog(dir, logBytes)
    const names = readdirSync(dir)
      .filter((n) => n.endsWith(".seg"))
      .sort()
    const bytesOnDisk = names.reduce((sum, name) => sum + statSync(join(dir, name)).size, 0)
    rawReadAndHash(dir, names) // warm the page cache and the hasher alike
    // Alternate the two, each from a collected heap, and keep each one's best of ROUNDS: the
    // machine is shared, and the throughput cases before this leave garbage behind.
    const collect = (globalThis as { gc?: () => void }).gc ?? (() => {})
    let rawMillis = Number.POSITIVE_INFINITY
    let rawPerBatchMillis = Number.POSITIVE_INFINITY
    let openMillis = Number.POSITIVE_INFINITY
    let retainedBytesPerEvent = 0
    for (let round = 0; round < ROUNDS; round++) {
      collect()
      rawMillis = Math.min(rawMillis, rawReadAndHash(dir, names))
      collect()
      rawPerBatchMillis = Math.min(rawPerBatchMillis, rawReadAndHashPerBatch(dir, names))
      collect()
      const start = performance.now()
      yield* Effect.scoped(
        Effect.gen(function* () {
          const [, replayed] = yield* WalHandle.open({ dir })
          openMillis = Math.min(openMillis, performance.now() - start)
          retainedBytesPerEvent = replayed.retainedBytes / replayed.length
          if (replayed.length !== events) throw new Error(`replayed ${replayed.length} of ${events}`)
        })
      )
    }
    return {
      logBytes: bytesOnDisk,
      events,
      openMillis,
      rawMillis,
      ratio: rawMillis / openMillis,
      rawPerBatchMillis,
      retainedBytesPerEvent
    }
  })
