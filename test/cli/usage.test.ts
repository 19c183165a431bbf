/**
 * Issue #12, "Command line" item 4: a usage error prints its message and a pointer to --help on
 * stderr, nothing on stdout, and exits 2 — so `dump … --format xml > out.ndjson` cannot fill the
 * file with help. Help that was asked for still goes to stdout with exit 0. Run in-process.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { runInProcess } from "../support/cliRun.ts"
import { buildLog } from "../support/logs.ts"
import { nodeLayer, tempDir } from "../support/wal.ts"

const usageErrors: ReadonlyArray<{ readonly args: ReadonlyArray<string>; readonly says: string }> = [
  { args: ["dump", "DIR", "--format", "xml"], says: 'Invalid value for flag --format: "xml"' },
  { args: ["dump", "DIR", "--from", "-3"], says: "--from must be a sequence number" },
  { args: ["dump", "DIR", "--to", "x"], says: "--to must be a sequence number" },
  { args: ["dump", "DIR", "--nope"], says: "--nope" },
  { args: ["dump"], says: "Missing required argument: dir" },
  { args: ["verify"], says: "Missing required argument: dir" },
  { args: ["inspect", "DIR", "extra"], says: "extra" },
  { args: ["frobnicate"], says: 'Unknown subcommand "frobnicate"' },
  { args: ["bench", "--writers", "0"], says: "--writers and --seconds must be at least 1" },
  { args: [], says: "no command given" }
]

describe("usage errors", () => {
  it.live("go to stderr as a message and a hint, nothing to stdout, exit 2", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* buildLog(dir, 2, 3)
      for (const { args, says } of usageErrors) {
        const result = yield* runInProcess(...args.map((a) => (a === "DIR" ? dir : a)))
        const label = `tidal-wal ${args.join(" ")}`
        assert.strictEqual(result.code, 2, `${label}: ${result.stderr}`)
        assert.strictEqual(result.stdout, "", `${label} printed on stdout`)
        assert.include(result.stderr, says, label)
        assert.include(result.stderr, "--help", label)
        assert.notInclude(result.stderr, "USAGE", `${label} printed the help`)
        const lines = result.stderr.trimEnd().split("\n")
        assert.isAtMost(lines.length, 3, `${label}: ${result.stderr}`)
      }
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("--help and --version, asked for, still print to stdout with exit 0", () =>
    Effect.gen(function* () {
      for (const args of [["--help"], ["verify", "--help"], ["dump", "--help"], ["demo", "--help"]]) {
        const result = yield* runInProcess(...args)
        assert.strictEqual(result.code, 0, args.join(" "))
        assert.include(result.stdout, "USAGE", args.join(" "))
        assert.strictEqual(result.stderr, "", args.join(" "))
      }
      const dumpHelp = yield* runInProcess("dump", "--help")
      assert.include(dumpHelp.stdout, "--format")
      const version = yield* runInProcess("--version")
      assert.strictEqual(version.code, 0)
      assert.strictEqual(version.stdout.trim(), "tidal-wal v0.1.0")
    }).pipe(Effect.provide(nodeLayer))
  )
})
