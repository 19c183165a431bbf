/**
 * Named regressions for the three failures the power-cut simulation found (docs/FORMAT.md, "What
 * a valid log is"), each a case the simulation covers at random, pinned here by construction:
 * 1. rotation ordering: a segment is created only after every sync of the previous one;
 * 2. damage with intact batches after it (or at or below the checkpoint) is corruption, never a
 *    torn tail: the default mode refuses instead of silently dropping acknowledged events;
 * 3. open and every reader apply one rule for what a valid directory is.
 */
import { NodePath } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem, Logger, References, Stream } from "effect"
import { CorruptionError, WalHandle, WalReader } from "../../src/index.ts"
import { encodeCheckpoint } from "../../src/internal/format/checkpointRecord.ts"
import { DirectoryLocker, inMemoryDirectoryLocker } from "../../src/internal/fs/directoryLock.ts"
import { buildLog, hashTree, segmentPaths } from "../support/logs.ts"
import { makeRng } from "../support/sim/rng.ts"
import { SimulatedDisk } from "../support/sim/simFileSystem.ts"
import { eventFor, eventsFor, nodeLayer, plainEvent, stored, tempDir } from "../support/wal.ts"

const batchBytes = (events: number) => 64 + events * 21

const flipBit = (file: string, offset: number) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const bytes = yield* fs.readFile(file)
    bytes[offset] = (bytes[offset] ?? 0) ^ 0x01
    yield* fs.writeFile(file, bytes)
  })

const readAll = (dir: string) =>
  WalReader.read(dir).pipe(
    Stream.runCollect,
    Effect.map((c) => Array.from(c))
  )

/** Log lines at warning level or above, as text, while `effect` runs. */
const capturingWarnings = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const lines: Array<string> = []
    const logger = Logger.make<unknown, void>(({ logLevel, message, fiber }) => {
      if (logLevel !== "Warn" && logLevel !== "Error" && logLevel !== "Fatal") return
      const annotations = fiber.getRef(References.CurrentLogAnnotations)
      lines.push(`${logLevel} ${String(message)} ${JSON.stringify(annotations)}`)
    })
    const result = yield* effect.pipe(Effect.provide(Logger.layer([logger])))
    return { result, lines }
  })

describe("power-loss regressions", () => {
  it.effect(
    "rotation ordering: a new segment is created only after every sync of the previous one completed",
    () =>
      Effect.gen(function* () {
        const disk = SimulatedDisk.withDirectories(["/sim"], makeRng(7))
        yield* Effect.scoped(
          Effect.gen(function* () {
            const [wal] = yield* WalHandle.open({
              dir: "/sim/wal",
              batchMaxEvents: 2,
              groupCommit: "eager",
              segmentMaxBytes: 3 * batchBytes(2)
            })
            yield* Effect.forEach(eventsFor(200), (e) => wal.append(e), { concurrency: 50, discard: true })
          })
        ).pipe(
          Effect.provideService(FileSystem.FileSystem, disk.fileSystem),
          Effect.provideService(DirectoryLocker, inMemoryDirectoryLocker()),
          Effect.provide(NodePath.layer)
        )
        const violations = rotationViolations(disk.trace)
        assert.isAbove(disk.trace.filter((line) => line.startsWith("create /sim/wal/wal-")).length, 10)
        assert.deepStrictEqual(violations, [])
      })
  )

  it.live(
    "one flipped bit in the first batch of a one-segment log fails open in tolerate-tail and changes nothing",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        yield* buildLog(dir, 10, 100)
        const [segment] = yield* segmentPaths(dir)
        yield* flipBit(segment ?? "", 64 + 5 * 21 + 3)
        const before = yield* hashTree(dir)
        const error = yield* Effect.flip(WalHandle.open({ dir }))
        assert.instanceOf(error, CorruptionError)
        if (error instanceof CorruptionError) {
          assert.strictEqual(error.reason, "DamageBeforeIntactBatches")
          assert.strictEqual(error.offsetBytes, 0)
        }
        assert.deepStrictEqual(yield* hashTree(dir), before)
        // The readers agree with open.
        const readError = yield* Effect.flip(readAll(dir))
        assert.instanceOf(readError, CorruptionError)
        const scan = yield* WalReader.scan(dir)
        assert.strictEqual(scan.problem?.reason, "DamageBeforeIntactBatches")
      }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live(
    "damage at or below the checkpoint in the last segment is corruption, even with nothing after it",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        yield* buildLog(dir, 3, 5)
        yield* Effect.scoped(Effect.flatMap(WalHandle.open({ dir }), ([wal]) => wal.checkpoint(15n)))
        const [segment] = yield* segmentPaths(dir)
        yield* flipBit(segment ?? "", 2 * batchBytes(5) + 70)
        const error = yield* Effect.flip(WalHandle.open({ dir }))
        assert.instanceOf(error, CorruptionError)
        if (error instanceof CorruptionError) assert.strictEqual(error.reason, "DamageBelowCheckpoint")
      }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("a torn tail of up to 8 unsynced batches, later ones intact, is cut, quarantined and logged", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const events = yield* buildLog(dir, 10, 5)
      const [segment] = yield* segmentPaths(dir)
      // Batch 4 of 10 damaged, batches 5..10 intact: 7 batches could all have been in flight.
      yield* flipBit(segment ?? "", 3 * batchBytes(5) + 100)
      const { result, lines } = yield* capturingWarnings(WalHandle.open({ dir }))
      const [wal, replayed] = result
      assert.deepStrictEqual([...replayed].map(plainEvent), events.slice(0, 15).map(stored))
      assert.strictEqual(wal.recovery.bytesTruncated, 7 * batchBytes(5))
      assert.strictEqual(yield* wal.append(eventFor(999)), 16n)
      const cut = lines.find((line) => line.includes("cut"))
      assert.isDefined(cut, lines.join("\n"))
      assert.include(cut, segment ?? "")
      assert.include(cut, String(3 * batchBytes(5)))
      assert.include(cut, String(7 * batchBytes(5)))
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  describe("open and the readers agree", () => {
    const agree = (dir: string) =>
      Effect.gen(function* () {
        const [wal, replayed] = yield* WalHandle.open({ dir })
        const fromHandle = yield* wal.read(1n).pipe(
          Stream.runCollect,
          Effect.map((c) => Array.from(c))
        )
        const fromReader = yield* readAll(dir)
        assert.deepStrictEqual(fromReader, fromHandle)
        const scan = yield* WalReader.scan(dir)
        assert.isUndefined(scan.problem, JSON.stringify(scan.problem))
        const tailed = yield* wal.tail(1n).pipe(Stream.take(fromHandle.length), Stream.runCollect)
        assert.deepStrictEqual(Array.from(tailed), fromHandle)
        return { wal, replayed, events: fromHandle }
      })

    it.live("after a point-in-time repair below the checkpoint and one append", () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        yield* buildLog(dir, 6, 5, { segmentMaxBytes: 2 * batchBytes(5) })
        yield* Effect.scoped(Effect.flatMap(WalHandle.open({ dir }), ([wal]) => wal.checkpoint(25n)))
        const [, second] = yield* segmentPaths(dir)
        yield* flipBit(second ?? "", 70)
        yield* Effect.scoped(
          Effect.flatMap(WalHandle.open({ dir, recoveryMode: "point-in-time" }), ([wal]) =>
            wal.append(eventFor(100))
          )
        )
        const { events } = yield* Effect.scoped(agree(dir))
        assert.deepStrictEqual(
          events.map((e) => e.seq),
          [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n, 26n]
        )
      }).pipe(Effect.scoped, Effect.provide(nodeLayer))
    )

    it.live("with a checkpoint beyond the log and one append", () =>
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const dir = yield* tempDir
        yield* buildLog(dir, 2, 5)
        yield* fs.writeFile(`${dir}/checkpoint.meta`, encodeCheckpoint({ sequence: 40n, timestampNanos: 1n }))
        yield* Effect.scoped(Effect.flatMap(WalHandle.open({ dir }), ([wal]) => wal.append(eventFor(100))))
        const { events, replayed } = yield* Effect.scoped(agree(dir))
        assert.deepStrictEqual(events.at(-1)?.seq, 41n)
        assert.deepStrictEqual(
          [...replayed].map((e) => e.seq),
          [41n]
        )
      }).pipe(Effect.scoped, Effect.provide(nodeLayer))
    )

    it.live("segments missing before the first kept one: open, read and verify all refuse", () =>
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const dir = yield* tempDir
        yield* buildLog(dir, 6, 5, { segmentMaxBytes: 2 * batchBytes(5) })
        const [first] = yield* segmentPaths(dir)
        yield* fs.remove(first ?? "")
        const openError = yield* Effect.flip(WalHandle.open({ dir }))
        assert.instanceOf(openError, CorruptionError)
        const readError = yield* Effect.flip(readAll(dir))
        assert.instanceOf(readError, CorruptionError)
        const scan = yield* WalReader.scan(dir)
        assert.strictEqual(scan.problem?.reason, "SegmentNameMismatch")
      }).pipe(Effect.scoped, Effect.provide(nodeLayer))
    )
  })
})

/**
 * Every new segment opened while a sync of the previous segment had started and not finished.
 * The trace has `open PATH` when a file is opened (`create PATH` when it is created exclusively,
 * as a new segment is) and `synced PATH` when a sync completes.
 */
const rotationViolations = (trace: ReadonlyArray<string>): Array<string> => {
  const pending = new Map<string, number>()
  const violations: Array<string> = []
  let current: string | undefined
  for (const line of trace) {
    const [op, at = ""] = line.split(" ")
    if (!at.includes("/wal-")) continue
    if (op === "sync") pending.set(at, (pending.get(at) ?? 0) + 1)
    if (op === "synced") pending.set(at, (pending.get(at) ?? 0) - 1)
    if ((op === "open" || op === "create") && at !== current) {
      if (current !== undefined && (pending.get(current) ?? 0) > 0)
        violations.push(`${at} opened with ${pending.get(current)} syncs of ${current} pending`)
      current = at
    }
  }
  return violations
}
