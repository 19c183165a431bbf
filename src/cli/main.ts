/**
 * The `tidal-wal` command line (described in the README): the command tree and the exit codes —
 * 0 fine, 1 a problem found (or a WAL error), 2 a usage error. A user mistake gets one readable line on
 * stderr, never a stack trace, and never help text on stdout: stdout carries only what the
 * command was asked for (or the help it was asked for with --help), so `dump … > out.ndjson`
 * cannot fill a file with help.
 *
 * `runCli` runs the tree with given arguments and returns the exit code, all output going
 * through the `Output` service; tests call it in-process. `main` is the process entry point.
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Effect, Option } from "effect"
import { Argument, CliError, CliOutput, Command, Flag } from "effect/cli"
import { isPlatformError } from "effect/PlatformError"
import { isWalError } from "../WalError.ts"
import { runBench } from "./bench.ts"
import { runDemo } from "./demo.ts"
import { runDump } from "./dump.ts"
import { ProblemFound } from "./errors.ts"
import { runInspect } from "./inspect.ts"
import { INSPECT_SCHEMA_VERSION } from "./inspectReport.ts"
import { errorLine, formatCount, Output, StdoutClosed } from "./output.ts"
import { parseSequenceNumber, U64_MAX } from "./sequenceNumber.ts"
import { runVerify } from "./verify.ts"
import { packageVersion } from "./version.ts"

const PROGRAM = "tidal-wal"
export const DEFAULT_DEMO_DIR = ".tidal-wal-demo"
const DEFAULT_BENCH_WRITERS = 1000
const DEFAULT_BENCH_SECONDS = 3
const MAX_BENCH_WRITERS = 100_000
const MAX_BENCH_SECONDS = 3600

// An empty string would resolve to the current directory: a quoting slip (`verify "$DIR"` with DIR
// unset) must not silently check, dump or overwrite whatever directory the shell happens to be in.
const nonEmpty = (dir: string) => dir.length > 0
const emptyDirMessage = () => `a non-empty path (use "." for the current directory)`

const dirArgument = Argument.String("dir").pipe(
  Argument.filter(nonEmpty, emptyDirMessage),
  Argument.withDescription("the WAL directory")
)

/**
 * A flag holding a sequence number: a decimal u64, parsed to a bigint (effect/cli's `Flag.Int` is
 * a JavaScript number, exact only up to 2^53). Shown as an integer in --help; anything else is a
 * usage error.
 */
const sequenceFlag = (name: string) =>
  Flag.String(name).pipe(
    Flag.filterMap(parseSequenceNumber, () => `a sequence number, an integer from 0 to ${U64_MAX}`),
    Flag.withMetavar("integer")
  )

/** A bench count: an integer in [1, max]. */
const countFlag = (name: string, max: number) =>
  Flag.Int(name).pipe(
    Flag.filter(
      (n) => n >= 1 && n <= max,
      () => `an integer from 1 to ${formatCount(max)}`
    )
  )

const inspect = Command.make(
  "inspect",
  {
    dir: dirArgument,
    format: Flag.Literals("format", ["text", "json"]).pipe(
      Flag.withDescription("text for a person, or json for a script (default: text)"),
      Flag.withDefault("text" as const)
    )
  },
  ({ dir, format }) => runInspect(dir, format)
).pipe(
  Command.withShortDescription(
    "Show segments, checkpoint, lock owner, totals and quarantine/ (read-only, no lock)"
  ),
  Command.withDescription(
    [
      "Show segments, checkpoint, lock owner, totals and what is in quarantine/ (read-only, no lock).",
      "Exit 1, after the report, if damage is found.",
      "",
      `--format json prints one JSON document (schemaVersion ${INSPECT_SCHEMA_VERSION}): dir, segments, totals,`,
      "checkpoint, lock, damage (null when clean) and quarantine. Sequence numbers and nanosecond",
      "times are decimal strings: a u64 does not fit a JSON number exactly (JSON.parse and jq read",
      "numbers as doubles, exact only up to 2^53). Byte and event counts are numbers; a value that",
      "does not exist is null."
    ].join("\n  ") // the formatter indents only a description's first line
  )
)

const verify = Command.make("verify", { dir: dirArgument }, ({ dir }) => runVerify(dir)).pipe(
  Command.withDescription(
    "Check every batch and checkpoint.meta and list quarantine/; exit 1 with file, offset and reason of the first problem"
  )
)

const dump = Command.make(
  "dump",
  {
    dir: dirArgument,
    from: sequenceFlag("from").pipe(
      Flag.withDescription("first sequence number (default: 1)"),
      Flag.withDefault(1n)
    ),
    to: sequenceFlag("to").pipe(
      Flag.withDescription("last sequence number, inclusive (default: the last event)"),
      Flag.optional
    ),
    format: Flag.Literals("format", ["ndjson", "table"]).pipe(
      Flag.withDescription(
        "ndjson (one JSON object a line; u64 values as decimal strings) or table (default: ndjson)"
      ),
      Flag.withDefault("ndjson" as const)
    )
  },
  ({ dir, from, to, format }) => runDump(dir, from, Option.getOrUndefined(to), format)
).pipe(
  Command.withDescription(
    "Print events in order (read-only, no lock); exit 1 naming the damage if the log stops at one"
  )
)

const bench = Command.make(
  "bench",
  {
    writers: countFlag("writers", MAX_BENCH_WRITERS).pipe(
      Flag.withDescription(`concurrent appenders (default: ${DEFAULT_BENCH_WRITERS})`),
      Flag.withDefault(DEFAULT_BENCH_WRITERS)
    ),
    seconds: countFlag("seconds", MAX_BENCH_SECONDS).pipe(
      Flag.withDescription(`seconds per measurement (default: ${DEFAULT_BENCH_SECONDS})`),
      Flag.withDefault(DEFAULT_BENCH_SECONDS)
    ),
    dir: Flag.String("dir").pipe(
      Flag.filter(nonEmpty, emptyDirMessage),
      Flag.withDescription("parent of the scratch directory (default: the system temp directory)"),
      Flag.optional
    )
  },
  ({ writers, seconds, dir }) => runBench({ writers, seconds, dir: Option.getOrUndefined(dir) })
).pipe(
  Command.withDescription(
    "Throughput and ack latency beside the disk's raw write+sync loop; progress on stderr when it is a terminal"
  )
)

const demo = Command.make(
  "demo",
  {
    dir: Argument.String("dir").pipe(
      Argument.filter(nonEmpty, emptyDirMessage),
      Argument.withDescription(
        `a new or empty directory, or one demo made before; any other is refused (default: ${DEFAULT_DEMO_DIR})`
      ),
      Argument.optional
    )
  },
  ({ dir }) => runDemo(Option.getOrElse(dir, () => DEFAULT_DEMO_DIR))
).pipe(
  Command.withDescription("Append from concurrent producers, reopen, and show the replay and recovery report")
)

const commands = [inspect, verify, dump, bench, demo]

export const cli = Command.make(PROGRAM).pipe(
  Command.withDescription("A durable write-ahead log for signal events"),
  Command.withSubcommands(commands)
)

/** Runs the command line with `argv` (without node and script) and returns the exit code. */
export const runCli = (argv: ReadonlyArray<string>): Effect.Effect<number, never, Command.Environment> =>
  Effect.gen(function* () {
    const output = yield* Output
    return yield* packageVersion.pipe(
      Effect.flatMap((version) => Command.runWith(cli, { version })(argv)),
      Effect.as(0),
      Effect.provideService(CliOutput.Presenter, presenter(output)),
      Effect.catch(exitCodeFor)
    )
  })

/** The process entry point: `bin/tidal-wal.js` runs it with `NodeServices` under `runMain`. */
export const main = (argv: ReadonlyArray<string>): Effect.Effect<void, never, Command.Environment> =>
  Effect.flatMap(runCli(argv), (code) =>
    Effect.sync(() => {
      process.exitCode = code
    })
  )

// internals

/**
 * Help and the version, when asked for, go to stdout; an invalid invocation gets its errors and a
 * pointer to --help on stderr, and nothing on stdout.
 */
const presenter = (output: Output): CliOutput.Presenter => {
  const formatter = CliOutput.defaultFormatter({ colors: output.stdoutIsTerminal })
  // A reader gone before the help was written is no error of ours.
  const toStdout = (text: string) => Effect.ignore(output.stdout(`${text}\n`))
  return {
    present: (event) => {
      switch (event._tag) {
        case "Help":
          return event.reason === "Requested"
            ? toStdout(formatter.formatHelpDoc(event.helpDoc))
            : usage(event.commandPath, [`no command given: one of ${commands.map((c) => c.name).join(", ")}`])
        case "InvalidInvocation":
          return usage(
            event.commandPath,
            event.errors.map((e) => e.message)
          )
        case "Version":
          return toStdout(formatter.formatVersion(event.name, event.version))
      }
    }
  }
}

const usage = (commandPath: ReadonlyArray<string>, messages: ReadonlyArray<string>) =>
  errorLine(
    [...messages.map((m) => `${PROGRAM}: ${m}`), `run "${commandPath.join(" ")} --help" for usage`].join("\n")
  )

/** Reports `error` on stderr (unless already reported) and returns the exit code it means. */
const exitCodeFor = (error: unknown): Effect.Effect<number> => {
  if (error instanceof StdoutClosed) {
    // The reader went away (`dump | head`): what Unix tools do is stop quietly.
    return error.code === "EPIPE" ? Effect.succeed(0) : report(1, error.message)
  }
  // The presenter has already printed the parse errors, or that no command was given.
  if (error instanceof CliError.ShowHelp) return Effect.succeed(2)
  if (CliError.isCliError(error)) return report(2, error.message)
  if (isWalError(error) || error instanceof ProblemFound || isPlatformError(error)) {
    return report(1, error.message)
  }
  return report(1, String(error))
}

const report = (code: number, message: string) => Effect.as(errorLine(`${PROGRAM}: ${message}`), code)

if (import.meta.main) {
  main(process.argv.slice(2)).pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain)
}
