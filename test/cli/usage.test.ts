/**
 * Usage of the command line, in-process. Issue #12, "Command line" item 4: a usage error prints
 * its message and a pointer to --help on stderr, nothing on stdout, and exits 2 — so
 * `dump … --format xml > out.ndjson` cannot fill the file with help; help that was asked for
 * still goes to stdout with exit 0. Issue #14 item 9: --help shows the default of every option,
 * sequence numbers are typed as integers (exact u64s, parsed by the parser: a bad one is a usage
 * error), and --version is the package's.
 */
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { runInProcess } from "../support/cliRun.ts"
import { buildLog } from "../support/logs.ts"
import { nodeLayer, tempDir } from "../support/wal.ts"

const U64_MAX = "18446744073709551615"

const usageErrors: ReadonlyArray<{ readonly args: ReadonlyArray<string>; readonly says: string }> = [
  { args: ["dump", "DIR", "--format", "xml"], says: 'Invalid value for flag --format: "xml"' },
  {
    args: ["dump", "DIR", "--from", "-3"],
    says: 'Invalid value for flag --from: "-3". Expected: a sequence number'
  },
  {
    args: ["dump", "DIR", "--to", "x"],
    says: 'Invalid value for flag --to: "x". Expected: a sequence number'
  },
  { args: ["dump", "DIR", "--to", "1e3"], says: 'Invalid value for flag --to: "1e3"' },
  { args: ["dump", "DIR", "--to", "0x10"], says: 'Invalid value for flag --to: "0x10"' },
  { args: ["dump", "DIR", "--to", "18446744073709551616"], says: `an integer from 0 to ${U64_MAX}` },
  { args: ["dump", "DIR", "--from", ""], says: "--from" },
  { args: ["dump", "DIR", "--nope"], says: "--nope" },
  { args: ["dump"], says: "Missing required argument: dir" },
  { args: ["verify"], says: "Missing required argument: dir" },
  { args: ["inspect", "DIR", "extra"], says: "extra" },
  { args: ["inspect", "DIR", "--format", "yaml"], says: 'Invalid value for flag --format: "yaml"' },
  { args: ["frobnicate"], says: 'Unknown subcommand "frobnicate"' },
  {
    args: ["bench", "--writers", "0"],
    says: 'Invalid value for flag --writers: "0". Expected: an integer from 1'
  },
  { args: ["bench", "--seconds", "1.5"], says: 'Invalid value for flag --seconds: "1.5"' },
  { args: ["bench", "--seconds", "99999"], says: "an integer from 1 to 3,600" },
  { args: [], says: "no command given" }
]

/** The lines of one section ("FLAGS", "ARGUMENTS", …) of a help text. */
const section = (help: string, title: string): ReadonlyArray<string> => {
  const lines = help.split("\n")
  const start = lines.indexOf(title)
  if (start < 0) return []
  const end = lines.findIndex((l, i) => i > start && l.trim() === "")
  return lines.slice(start + 1, end < 0 ? undefined : end)
}

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
      const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"))
      const version = yield* runInProcess("--version")
      assert.strictEqual(version.code, 0)
      assert.strictEqual(version.stdout.trim(), `tidal-wal v${manifest.version}`)
    }).pipe(Effect.provide(nodeLayer))
  )
})

describe("--help", () => {
  it.live("shows the default of every option and argument of every command", () =>
    Effect.gen(function* () {
      const root = yield* runInProcess("--help")
      const commands = section(root.stdout, "SUBCOMMANDS").map((l) => l.trim().split(/\s+/)[0] ?? "")
      assert.deepStrictEqual(commands, ["inspect", "verify", "dump", "bench", "demo"])
      let options = 0
      for (const command of commands) {
        const help = (yield* runInProcess(command, "--help")).stdout
        for (const line of section(help, "FLAGS")) {
          options++
          assert.match(line, /\(default: [^)]+\)/, `${command}: ${line}`)
        }
        // A required argument has no default; an optional one must say what it defaults to.
        for (const line of section(help, "ARGUMENTS").filter((l) => l.includes("(optional)"))) {
          options++
          assert.match(line, /\(default: [^)]+\)/, `${command}: ${line}`)
        }
      }
      assert.strictEqual(options, 8, "every option was looked at")
    }).pipe(Effect.provide(nodeLayer))
  )

  it.live("types sequence numbers and counts as integers", () =>
    Effect.gen(function* () {
      const dump = section((yield* runInProcess("dump", "--help")).stdout, "FLAGS")
      assert.match(dump.find((l) => l.includes("--from")) ?? "", /--from integer\s/)
      assert.match(dump.find((l) => l.includes("--to")) ?? "", /--to integer\s/)
      const bench = section((yield* runInProcess("bench", "--help")).stdout, "FLAGS")
      assert.match(bench.find((l) => l.includes("--writers")) ?? "", /--writers integer\s/)
      assert.match(bench.find((l) => l.includes("--seconds")) ?? "", /--seconds integer\s/)
    }).pipe(Effect.provide(nodeLayer))
  )

  it.live("explains inspect --format json and why its sequence numbers are strings", () =>
    Effect.gen(function* () {
      const help = (yield* runInProcess("inspect", "--help")).stdout
      assert.include(help, "--format json prints one JSON document")
      assert.include(help, "Sequence numbers and nanosecond")
      assert.include(help, "a u64 does not fit a JSON number exactly")
    }).pipe(Effect.provide(nodeLayer))
  )
})

describe("sequence-number options", () => {
  it.live("take every u64 exactly, beyond 2^53 too", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* buildLog(dir, 2, 3)
      // 2^53 + 1 is the first integer a JavaScript number cannot hold.
      const all = yield* runInProcess("dump", dir, "--from", "0", "--to", U64_MAX)
      assert.strictEqual(all.code, 0, all.stderr)
      assert.strictEqual(all.stdout.trim().split("\n").length, 6)
      const none = yield* runInProcess("dump", dir, "--from", "9007199254740993")
      assert.strictEqual(none.code, 0, none.stderr)
      assert.strictEqual(none.stdout, "")
      const padded = yield* runInProcess("dump", dir, "--from", "00000000000000000005")
      assert.deepStrictEqual(
        padded.stdout
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l).seq),
        ["5", "6"]
      )
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})
