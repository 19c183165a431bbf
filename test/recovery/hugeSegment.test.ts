/**
 * Recovery, the readers and quarantine in bounded memory (docs/FORMAT.md, "Memory during recovery
 * and reads"): a real directory whose last segment is a 512 MiB sparse file — valid batches, then
 * a hole of zeros with a stretch of garbage in it, as a segment extended by `truncate` or written
 * over by a broken disk looks — is opened in the default mode, read and verified, each in a child
 * process whose peak RSS is measured. Reading the whole segment into one buffer, as recovery once
 * did, costs 512 MiB there; chunked, it stays within a few chunks. The tail's quarantine copy holds
 * every byte cut, the zeros as holes: it takes a few blocks on disk, not 512 MiB.
 */
import { spawnSync } from "node:child_process"
import * as NodeFs from "node:fs"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { WalHandle } from "../../src/index.ts"
import { segmentPaths } from "../support/logs.ts"
import { eventsFor, nodeLayer, tempDir } from "../support/wal.ts"

const MIB = 1024 * 1024
const HUGE_BYTES = 512 * MIB
/** Peak RSS may rise by this much: a few 16 MiB chunks and the runtime's own growth. */
const RSS_BOUND_BYTES = 128 * MIB
const EVENTS = 5000
const GARBAGE_OFFSET = 300 * MIB
const GARBAGE_BYTES = MIB

const childScript = fileURLToPath(new URL("./hugeSegmentChild.ts", import.meta.url))

interface ChildReport {
  readonly mode: string
  readonly result: unknown
  readonly failed: boolean
  readonly rssGrowthBytes: number
}

/** Runs the operations in one child process; the report of each, in order. */
const runChild = (dir: string, modes: ReadonlyArray<"open" | "read" | "verify">): Array<ChildReport> => {
  const run = spawnSync(process.execPath, [childScript, dir, modes.join(",")], {
    encoding: "utf8",
    timeout: 120_000
  })
  assert.strictEqual(run.status, 0, `child exited ${run.status}: ${run.stderr}`)
  const reports = run.stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as ChildReport)
  for (const report of reports) {
    const growth = (report.rssGrowthBytes / MIB).toFixed(1)
    console.log(`huge segment: peak RSS ${growth} MiB above the start after ${report.mode}`)
    assert.isFalse(report.failed, `${report.mode}: ${JSON.stringify(report.result)}`)
    assert.isBelow(report.rssGrowthBytes, RSS_BOUND_BYTES, `${report.mode}: peak RSS grew by ${growth} MiB`)
  }
  assert.deepStrictEqual(
    reports.map((r) => r.mode),
    [...modes]
  )
  return reports
}

/** Garbage that holds no batch magic number: bytes 0x01..0xfd, never 0x44 ('D'). */
const garbage = (bytes: number): Buffer => {
  const out = Buffer.alloc(bytes)
  for (let i = 0; i < bytes; i++) out[i] = 1 + ((i * 7919) % 0x43)
  return out
}

/** A log of `EVENTS` events in one segment, which is then extended to 512 MiB: a hole, some garbage. */
const hugeLog = Effect.gen(function* () {
  const dir = yield* tempDir
  yield* Effect.scoped(
    Effect.gen(function* () {
      const [wal] = yield* WalHandle.open({ dir, batchMaxEvents: 100 })
      yield* wal.appendAll(eventsFor(EVENTS))
    })
  )
  const last = (yield* segmentPaths(dir)).at(-1) ?? ""
  const validBytes = NodeFs.statSync(last).size
  NodeFs.truncateSync(last, HUGE_BYTES)
  const fd = NodeFs.openSync(last, "r+")
  NodeFs.writeSync(fd, garbage(GARBAGE_BYTES), 0, GARBAGE_BYTES, GARBAGE_OFFSET)
  NodeFs.closeSync(fd)
  return { dir, last, validBytes }
})

describe("a 512 MiB sparse last segment", () => {
  it.live(
    "reads, verifies and opens in bounded memory; the replay holds the valid events, the tail is quarantined sparsely",
    () =>
      Effect.gen(function* () {
        const { dir, last, validBytes } = yield* hugeLog
        const [read, verified, opened] = runChild(dir, ["read", "verify", "open"])
        // The readers: the valid events, then a torn tail; nothing changed.
        assert.deepStrictEqual(read?.result, { events: EVENTS })
        const scan = verified?.result as {
          readonly problem: {
            readonly file: string
            readonly offsetBytes: number
            readonly tornTail: boolean
          }
        }
        assert.strictEqual(scan.problem.file, last)
        assert.strictEqual(scan.problem.offsetBytes, validBytes)
        assert.isTrue(scan.problem.tornTail)
        // Open: the replay, the cut, and a copy of every byte cut, the zeros as holes.
        const recovered = opened?.result as {
          readonly replayed: number
          readonly lastSeq: string
          readonly bytesTruncated: number
          readonly filesQuarantined: ReadonlyArray<string>
        }
        assert.strictEqual(recovered.replayed, EVENTS)
        assert.strictEqual(recovered.lastSeq, String(EVENTS))
        assert.strictEqual(recovered.bytesTruncated, HUGE_BYTES - validBytes)
        assert.strictEqual(NodeFs.statSync(last).size, validBytes)
        const copy = recovered.filesQuarantined[0] ?? ""
        const copied = NodeFs.statSync(copy)
        assert.strictEqual(copied.size, HUGE_BYTES - validBytes, "the copy holds every byte cut")
        console.log(
          `huge segment: quarantine copy of ${copied.size} bytes takes ${copied.blocks * 512} on disk`
        )
        assert.isBelow(copied.blocks * 512, 8 * MIB, "the zeros are holes, not written blocks")
        const fd = NodeFs.openSync(copy, "r")
        const at = (offset: number, length: number) => {
          const buffer = Buffer.alloc(length)
          NodeFs.readSync(fd, buffer, 0, length, offset - validBytes)
          return buffer
        }
        assert.isTrue(at(GARBAGE_OFFSET, GARBAGE_BYTES).equals(garbage(GARBAGE_BYTES)), "the garbage is kept")
        assert.isTrue(at(GARBAGE_OFFSET - MIB, MIB).equals(Buffer.alloc(MIB)))
        assert.isTrue(at(HUGE_BYTES - MIB, MIB).equals(Buffer.alloc(MIB)))
        NodeFs.closeSync(fd)
      }).pipe(Effect.scoped, Effect.provide(nodeLayer)),
    { timeout: 240_000 }
  )
})
