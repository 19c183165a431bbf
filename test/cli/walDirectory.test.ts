/**
 * Issue #12, "Command line" item 5: `inspect`, `verify` and `dump` never report on something that
 * is not a WAL as if it were an empty, healthy one. A WAL directory, for the command line, is an
 * existing directory holding a segment file or a checkpoint.meta. An empty-string DIR is a usage
 * error (it would mean the current directory). Run in-process.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem, Path } from "effect"
import { runInProcess } from "../support/cliRun.ts"
import { buildLog } from "../support/logs.ts"
import { nodeLayer, tempDir } from "../support/wal.ts"

const commands = ["inspect", "verify", "dump"] as const

describe("what the read-only commands accept as a WAL directory", () => {
  it.live("an empty-string DIR is a usage error for every command", () =>
    Effect.gen(function* () {
      for (const command of [...commands, "demo"]) {
        const result = yield* runInProcess(command, "")
        assert.strictEqual(result.code, 2, `${command} "": ${result.stderr}`)
        assert.strictEqual(result.stdout, "", command)
        assert.include(result.stderr, "non-empty path", command)
      }
    }).pipe(Effect.provide(nodeLayer))
  )

  it.live("an empty directory, unrelated files, a file and a missing path are errors, not ok", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const empty = yield* tempDir
      const unrelated = yield* tempDir
      yield* fs.writeFileString(path.join(unrelated, "notes.txt"), "not a WAL\n")
      yield* fs.writeFileString(path.join(unrelated, "wal-1.seg"), "a name close to a segment's\n")
      const file = path.join(unrelated, "notes.txt")
      const missing = path.join(empty, "no-such-dir")
      const cases = [
        { dir: empty, says: "is not a WAL directory" },
        { dir: unrelated, says: "is not a WAL directory" },
        { dir: file, says: "not a directory" },
        { dir: missing, says: "no such directory" }
      ]
      for (const command of commands) {
        for (const { dir, says } of cases) {
          const result = yield* runInProcess(command, dir)
          const label = `${command} ${dir}`
          assert.strictEqual(result.code, 1, `${label}: ${result.stdout}${result.stderr}`)
          assert.strictEqual(result.stdout, "", label)
          assert.include(result.stderr, `${command}: ${dir}`, label)
          assert.include(result.stderr, says, label)
        }
      }
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("a segment file or a checkpoint.meta alone makes a WAL directory", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const wal = yield* tempDir
      yield* buildLog(wal, 2, 3)
      const verified = yield* runInProcess("verify", wal)
      assert.strictEqual(verified.code, 0, verified.stderr)
      assert.match(verified.stdout, /^ok: 1 segments, 2 batches, 6 events/)
      // A checkpoint with every segment truncated away is still a WAL: verify goes on to check it.
      const checkpointOnly = yield* tempDir
      yield* fs.writeFileString(path.join(checkpointOnly, "checkpoint.meta"), "not a valid record")
      const checked = yield* runInProcess("verify", checkpointOnly)
      assert.strictEqual(checked.code, 1)
      assert.notInclude(checked.stderr, "not a WAL directory")
      assert.include(checked.stderr, "checkpoint.meta")
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})
