/**
 * Issue #14 item 9: `inspect --format json` prints one JSON document that parses and says what is
 * in the directory — segments, totals, first/last sequence numbers, checkpoint, lock, damage and
 * the quarantine — with u64 values as exact decimal strings; `inspect` (text) and `verify` list
 * what recovery put in `quarantine/`, where it came from and when. The quarantine here is made by
 * real recoveries, so the names are the ones recovery gives. Run in-process. Then the names read
 * back as units, for the names recovery gives (src/internal/recovery/quarantine.ts) and others.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem, Path, References } from "effect"
import { INSPECT_SCHEMA_VERSION, type InspectDocument } from "../../src/cli/inspectReport.ts"
import { formatNanos, parseQuarantineName } from "../../src/cli/quarantine.ts"
import { WalHandle } from "../../src/index.ts"
import { encodeBatch } from "../../src/internal/format/batchCodec.ts"
import { encodeCheckpoint } from "../../src/internal/format/checkpointRecord.ts"
import { U64_MAX } from "../../src/internal/format/layout.ts"
import { segmentName } from "../../src/internal/format/segmentName.ts"
import { runInProcess } from "../support/cliRun.ts"
import { buildLog, quarantineFiles, segmentPaths } from "../support/logs.ts"
import { eventsFor, nodeLayer, tempDir } from "../support/wal.ts"

const BATCH_BYTES = 64 + 5 * 21

/** 9 batches of 5 events, 3 batches a segment. */
const logOf = Effect.gen(function* () {
  const dir = yield* tempDir
  yield* buildLog(dir, 9, 5, { segmentMaxBytes: 3 * BATCH_BYTES })
  return dir
})

const flipByte = (file: string, offset: number) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const bytes = yield* fs.readFile(file)
    bytes[offset] = (bytes[offset] ?? 0) ^ 0xff
    yield* fs.writeFile(file, bytes)
  })

const inspectJson = (dir: string) =>
  Effect.gen(function* () {
    const result = yield* runInProcess("inspect", dir, "--format", "json")
    // Parsed with plain JSON.parse, as a script would: nothing in it may need a special reader.
    const document: InspectDocument = JSON.parse(result.stdout)
    return { result, document }
  })

/**
 * A log cut by point-in-time recovery at a flipped byte in batch 2 of the first segment: the
 * first segment's tail copied to quarantine/, the two later segments moved there whole, and a
 * checkpoint at 3. Returns the directory and a file put in quarantine/ by hand.
 */
const recoveredLog = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const dir = yield* logOf
  const [first] = yield* segmentPaths(dir)
  yield* flipByte(first ?? "", BATCH_BYTES + 80)
  yield* Effect.scoped(
    Effect.gen(function* () {
      const [wal] = yield* WalHandle.open({ dir, recoveryMode: "point-in-time" })
      yield* wal.checkpoint(3n)
    })
    // Recovery's warnings about the cut are expected here; they would only fill the test output.
  ).pipe(Effect.provideService(References.MinimumLogLevel, "None"))
  yield* fs.writeFileString(path.join(dir, "quarantine", "notes.txt"), "left by an operator\n")
  return dir
})

describe("inspect --format json", () => {
  it.live("parses, and matches a directory recovery cut: segments, totals, checkpoint, quarantine", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const dir = yield* recoveredLog
      const { result, document } = yield* inspectJson(dir)
      assert.strictEqual(result.code, 0, result.stderr)
      assert.strictEqual(result.stderr, "")
      const name = (seq: bigint) => segmentName(seq)
      assert.deepStrictEqual(document.schemaVersion, INSPECT_SCHEMA_VERSION)
      assert.strictEqual(document.dir, dir)
      assert.deepStrictEqual(document.segments, [
        {
          name: name(1n),
          sizeBytes: BATCH_BYTES,
          validBytes: BATCH_BYTES,
          batches: 1,
          events: 5,
          firstSeq: "1",
          lastSeq: "5"
        }
      ])
      assert.deepStrictEqual(document.totals, {
        segments: 1,
        sizeBytes: BATCH_BYTES,
        batches: 1,
        events: 5,
        firstSeq: "1",
        lastSeq: "5"
      })
      assert.strictEqual(document.checkpoint.status, "valid")
      if (document.checkpoint.status === "valid") {
        assert.strictEqual(document.checkpoint.seq, "3")
        assert.match(document.checkpoint.writtenAtNanos, /^\d+$/)
      }
      assert.deepStrictEqual(document.lock, { held: false, owner: null })
      assert.isNull(document.damage)

      // What the listing says, against the quarantine directory itself.
      const files = yield* quarantineFiles(dir)
      assert.deepStrictEqual(
        document.quarantine.files.map((f) => f.name),
        files.map((f) => path.basename(f))
      )
      for (const [i, file] of document.quarantine.files.entries()) {
        assert.strictEqual(file.sizeBytes, Number((yield* fs.stat(files[i] ?? "")).size), file.name)
        assert.strictEqual(file.type, "File")
      }
      const bySegment = (segment: string) => document.quarantine.files.find((f) => f.segment === segment)
      assert.deepInclude(bySegment(name(1n)), {
        origin: "tail",
        fromOffsetBytes: BATCH_BYTES,
        sizeBytes: 2 * BATCH_BYTES
      })
      for (const firstSeq of [16n, 31n]) {
        assert.deepInclude(bySegment(name(firstSeq)), {
          origin: "whole",
          fromOffsetBytes: null,
          sizeBytes: 3 * BATCH_BYTES
        })
      }
      for (const file of document.quarantine.files.filter((f) => f.origin !== "unknown")) {
        assert.isTrue(file.name.endsWith(`.${file.quarantinedAtNanos}`), file.name)
      }
      assert.deepStrictEqual(
        document.quarantine.files.find((f) => f.name === "notes.txt"),
        {
          name: "notes.txt",
          type: "File",
          sizeBytes: 20,
          origin: "unknown",
          segment: null,
          fromOffsetBytes: null,
          quarantinedAtNanos: null
        }
      )
      assert.strictEqual(document.quarantine.entries, 4)
      assert.strictEqual(document.quarantine.sizeBytes, 2 * BATCH_BYTES + 6 * BATCH_BYTES + 20)
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("names the damage and exits 1, with the document still whole on stdout", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* logOf
      const last = (yield* segmentPaths(dir)).at(-1) ?? ""
      const bytes = yield* fs.readFile(last)
      yield* fs.writeFile(last, bytes.subarray(0, bytes.byteLength - 10))
      const { result, document } = yield* inspectJson(dir)
      assert.strictEqual(result.code, 1)
      assert.include(result.stderr, `${last} at byte ${2 * BATCH_BYTES}: BatchPastEndOfFile`)
      assert.deepInclude(document.damage, {
        file: last,
        offsetBytes: 2 * BATCH_BYTES,
        reason: "BatchPastEndOfFile",
        tornTail: true
      })
      assert.deepStrictEqual(document.totals, {
        segments: 3,
        sizeBytes: 9 * BATCH_BYTES - 10,
        batches: 8,
        events: 40,
        firstSeq: "1",
        lastSeq: "40"
      })
      assert.deepStrictEqual(document.quarantine, { entries: 0, sizeBytes: 0, files: [] })
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("writes sequence numbers past 2^53 exactly, as decimal strings", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      const firstSeq = U64_MAX - 4n
      yield* fs.writeFile(`${dir}/${segmentName(firstSeq)}`, encodeBatch(firstSeq, 1n, eventsFor(3)))
      yield* fs.writeFile(
        `${dir}/checkpoint.meta`,
        encodeCheckpoint({ sequence: firstSeq - 1n, timestampNanos: U64_MAX })
      )
      const { result, document } = yield* inspectJson(dir)
      assert.strictEqual(result.code, 0, result.stderr)
      assert.strictEqual(document.totals.firstSeq, "18446744073709551611")
      assert.strictEqual(document.totals.lastSeq, "18446744073709551613")
      assert.deepStrictEqual(document.checkpoint, {
        status: "valid",
        seq: "18446744073709551610",
        writtenAtNanos: "18446744073709551615"
      })
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})

describe("inspect and verify list the quarantine", () => {
  it.live("with each entry's name, size, the segment it came from, and where it was cut", () =>
    Effect.gen(function* () {
      const dir = yield* recoveredLog
      const files = (yield* quarantineFiles(dir)).map((f) => f.split("/").at(-1) ?? "")
      const tail =
        files.find((f) => f.startsWith(`${segmentName(1n)}.from-${BATCH_BYTES}.`)) ?? "(no tail copy)"
      const whole = files.find((f) => f.startsWith(`${segmentName(16n)}.whole.`)) ?? "(no whole copy)"
      for (const command of ["inspect", "verify"]) {
        const result = yield* runInProcess(command, dir)
        assert.strictEqual(result.code, 0, `${command}: ${result.stderr}`)
        const lines = result.stdout.split("\n")
        assert.include(
          lines,
          "quarantine: 4 entries, 1,372 bytes (what recovery removed from the log)",
          command
        )
        const lineOf = (name: string) =>
          lines.find((l) => l.trimStart().startsWith(name)) ?? `(no line for ${name})`
        assert.match(
          lineOf(tail),
          new RegExp(`338 bytes  ${segmentName(1n)} from byte ${BATCH_BYTES}, cut \\d{4}-\\d\\d-\\d\\dT`),
          command
        )
        assert.match(
          lineOf(whole),
          new RegExp(`507 bytes  ${segmentName(16n)} whole, moved \\d{4}-`),
          command
        )
        assert.match(lineOf("notes.txt"), /20 bytes {2}unknown \(not a name recovery gives\)$/, command)
      }
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("verify of a damaged log still shows the quarantine on stdout, and the damage on stderr", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* recoveredLog
      const [first] = yield* segmentPaths(dir)
      const bytes = yield* fs.readFile(first ?? "")
      yield* fs.writeFile(first ?? "", bytes.subarray(0, bytes.byteLength - 10))
      const result = yield* runInProcess("verify", dir)
      assert.strictEqual(result.code, 1)
      assert.match(result.stdout, /^quarantine: 4 entries/)
      assert.include(result.stderr, `${first} at byte 0`)
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("a directory holding only quarantine/ is a WAL directory whose segments were all moved", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const dir = yield* tempDir
      yield* fs.makeDirectory(path.join(dir, "quarantine"))
      const copy = `${segmentName(1n)}.from-0.1700000000000000000`
      yield* fs.writeFile(path.join(dir, "quarantine", copy), new Uint8Array(100))
      const result = yield* runInProcess("inspect", dir)
      assert.strictEqual(result.code, 0, result.stderr)
      assert.include(result.stdout, "totals: 0 segments")
      assert.include(result.stdout, `${segmentName(1n)} from byte 0, cut 2023-11-14T22:13:20.000Z`)
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})

const SEGMENT = "wal-00000000000000000016.seg"

describe("quarantine names, read back into where the bytes came from", () => {
  it("a tail copy, a whole segment, and either with the suffix that tells same-moment copies apart", () => {
    assert.deepStrictEqual(parseQuarantineName(`${SEGMENT}.from-338.1700000000000000001`), {
      _tag: "Tail",
      segment: SEGMENT,
      fromOffsetBytes: 338,
      quarantinedAtNanos: 1_700_000_000_000_000_001n
    })
    assert.deepStrictEqual(parseQuarantineName(`${SEGMENT}.whole.1700000000000000001.2`), {
      _tag: "Whole",
      segment: SEGMENT,
      quarantinedAtNanos: 1_700_000_000_000_000_001n
    })
    assert.deepInclude(parseQuarantineName(`${SEGMENT}.from-0.5.1`), { _tag: "Tail", fromOffsetBytes: 0 })
  })

  it("anything else is of unknown origin", () => {
    for (const name of [
      "notes.txt",
      SEGMENT,
      `${SEGMENT}.whole`,
      `${SEGMENT}.from-x.17`,
      `${SEGMENT}.partial.17`,
      "wal-00000000000000000000.seg.whole.17", // no segment starts at sequence number 0
      "wal-1.seg.whole.17",
      `${SEGMENT}.whole.17.x`,
      `x${SEGMENT}.whole.17`
    ]) {
      assert.deepStrictEqual(parseQuarantineName(name), { _tag: "Unknown" }, name)
    }
  })

  it("times are shown as ISO dates, the largest a name can hold too", () => {
    assert.strictEqual(formatNanos(1_700_000_000_000_000_000n), "2023-11-14T22:13:20.000Z")
    assert.strictEqual(formatNanos(99_999_999_999_999_999_999n), "5138-11-16T09:46:39.999Z")
  })
})
