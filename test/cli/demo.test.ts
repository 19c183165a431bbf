/**
 * Issue #12, "Command line" item 1: `demo` appends fake events and deletes segments, so it works
 * only in a directory it owns — a new or empty one, which it marks with `.tidal-wal-demo` first,
 * or one carrying that mark. Anything else (a real WAL, unrelated files, a file) is refused with
 * exit 1 and left byte-for-byte as it was. Run in-process.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem, Path } from "effect"
import { DEMO_MARKER } from "../../src/cli/demo.ts"
import { runInProcess } from "../support/cliRun.ts"
import { buildLog } from "../support/logs.ts"
import { nodeLayer, snapshotDir, tempDir } from "../support/wal.ts"

/** Every entry's relative path (directories too, which `snapshotDir` leaves out) and every file's bytes. */
const stateOf = (dir: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const entries = (yield* fs.readDirectory(dir, { recursive: true })).sort()
    return { entries, files: yield* snapshotDir(dir) }
  })

const assertRefused = (dir: string) =>
  Effect.gen(function* () {
    const before = yield* stateOf(dir)
    const result = yield* runInProcess("demo", dir)
    assert.strictEqual(result.code, 1, `${result.stdout}${result.stderr}`)
    assert.include(result.stderr, `demo: refusing to use ${dir}`)
    assert.strictEqual(result.stdout, "")
    assert.deepStrictEqual(yield* stateOf(dir), before)
  })

describe("demo only touches its own directory", () => {
  it.live("a directory holding a real WAL is refused and left byte-for-byte unchanged", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* buildLog(dir, 4, 5, { segmentMaxBytes: 2 * (64 + 5 * 21) })
      yield* assertRefused(dir)
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("a directory of unrelated files, and a plain file, are refused and left unchanged", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const dir = yield* tempDir
      yield* fs.writeFileString(path.join(dir, "notes.txt"), "keep me\n")
      yield* fs.makeDirectory(path.join(dir, "sub"))
      yield* fs.writeFile(path.join(dir, "sub", "data.bin"), new Uint8Array([1, 2, 3]))
      yield* assertRefused(dir)
      const before = yield* stateOf(dir)
      const onFile = yield* runInProcess("demo", path.join(dir, "notes.txt"))
      assert.strictEqual(onFile.code, 1)
      assert.include(onFile.stderr, "not a directory")
      assert.deepStrictEqual(yield* stateOf(dir), before)
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("a new directory is made and marked first; demo reruns on its own directory", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const dir = path.join(yield* tempDir, "nested", "demo")
      const first = yield* runInProcess("demo", dir)
      assert.strictEqual(first.code, 0, first.stderr)
      assert.include(first.stdout, "appended 40,000 events")
      assert.include(first.stdout, "checkpointed at 40000")
      assert.isTrue(yield* fs.exists(path.join(dir, DEMO_MARKER)))
      const second = yield* runInProcess("demo", dir)
      assert.strictEqual(second.code, 0, second.stderr)
      assert.include(second.stdout, "checkpointed at 80000")
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("an empty directory is taken and marked", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const dir = yield* tempDir
      const result = yield* runInProcess("demo", dir)
      assert.strictEqual(result.code, 0, result.stderr)
      assert.include(result.stdout, "checkpointed at 40000")
      assert.isTrue(yield* fs.exists(path.join(dir, DEMO_MARKER)))
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})
