/**
 * What memory the process has not touched before costs here — the bound on recovery's figure:
 *
 *   node --expose-gc bench/freshMemory.ts [ROUNDS]
 *
 * Builds the 64 MiB log of bench (c), then per round reads its segment files twice from the page
 * cache, from a collected heap, hashing each batch of a file (BLAKE3, as recovery checks them)
 * right after reading it: once into new buffers kept until all are read (as recovery's replay
 * keeps them, so each read lands in memory the process may not have used before), once into one
 * buffer reused for every file. The two differ only in the memory read into. On a VM whose host
 * backs guest memory lazily, the first touch of a page costs far more than the copy into it, and
 * how much varies from round to round with what the host did since.
 */
import { closeSync, mkdtempSync, openSync, readdirSync, readSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { batchSizeBytes } from "../src/internal/format/batchCodec.ts"
import { blake3Into, checksumReady } from "../src/internal/format/checksum.ts"
import {
  BATCH_CHECKSUMMED_HEADER_BYTES,
  BATCH_HEADER_BYTES,
  CHECKSUM_BYTES
} from "../src/internal/format/layout.ts"
import { buildLog } from "./recovery.bench.ts"

const ROUNDS = Number(process.argv[2] ?? 5)
const SEGMENT_BYTES = 16 * 1024 * 1024
const collect = (globalThis as { gc?: () => void }).gc
if (collect === undefined) throw new Error("run with node --expose-gc")

const readInto = (path: string, buffer: Uint8Array): Uint8Array => {
  const fd = openSync(path, "r")
  try {
    let filled = 0
    while (filled < buffer.length) {
      const read = readSync(fd, buffer, filled, buffer.length - filled, filled)
      if (read === 0) break
      filled += read
    }
    return buffer.subarray(0, filled)
  } finally {
    closeSync(fd)
  }
}

const hashEachBatch = (bytes: Uint8Array): void => {
  const batchBytes = batchSizeBytes(100)
  const checksum = new Uint8Array(CHECKSUM_BYTES)
  for (let offset = 0; offset + batchBytes <= bytes.length; offset += batchBytes) {
    const header = bytes.subarray(offset, offset + BATCH_CHECKSUMMED_HEADER_BYTES)
    blake3Into(header, bytes.subarray(offset + BATCH_HEADER_BYTES, offset + batchBytes), checksum, 0)
  }
}

const timed = (f: () => void): number => {
  const start = performance.now()
  f()
  return performance.now() - start
}

/** Reads the file into `buffer`, then hashes each batch: the milliseconds of each step. */
const readThenHash = (path: string, buffer: Uint8Array): readonly [number, number] => {
  let bytes = buffer
  const readMillis = timed(() => {
    bytes = readInto(path, buffer)
  })
  return [readMillis, timed(() => hashEachBatch(bytes))]
}

const dir = mkdtempSync(join(tmpdir(), "tidal-wal-fresh-"))
try {
  buildLog(dir, 64 * 1024 * 1024)
  await Effect.runPromise(checksumReady)
  const paths = readdirSync(dir)
    .filter((name) => name.endsWith(".seg"))
    .sort()
    .map((name) => join(dir, name))
  const reused = new Uint8Array(SEGMENT_BYTES)
  console.log(
    "| round | read, new buffers kept ms | hash them ms | read, one buffer reused ms | hash it ms |"
  )
  console.log("|---:|---:|---:|---:|---:|")
  for (let round = 1; round <= ROUNDS; round++) {
    collect()
    const kept: Array<Uint8Array> = []
    let readKept = 0
    let hashKept = 0
    for (const path of paths) {
      const buffer = new Uint8Array(SEGMENT_BYTES)
      kept.push(buffer)
      const [readMillis, hashMillis] = readThenHash(path, buffer)
      readKept += readMillis
      hashKept += hashMillis
    }
    kept.length = 0
    collect()
    let readReused = 0
    let hashReused = 0
    for (const path of paths) {
      const [readMillis, hashMillis] = readThenHash(path, reused)
      readReused += readMillis
      hashReused += hashMillis
    }
    const cells = [readKept, hashKept, readReused, hashReused].map((millis) => millis.toFixed(1))
    console.log(`| ${round} | ${cells.join(" | ")} |`)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
