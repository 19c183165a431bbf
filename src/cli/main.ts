/**
 * The `tidal-wal` command line (SPEC §5): the command tree and the exit codes — 0 fine, 1 a
 * problem found (or a WAL error), 2 a usage error. A user mistake gets one readable line on
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
import { ProblemFound, UsageError } from "./errors.ts"
import { runInspect } from "./inspect.ts"
import { errorLine, Output, StdoutClosed } from "./output.ts"
import { runVerify } from "./verify.ts"

const VERSION = "0.1.0"
const PROGRAM = "tidal-wal"
export const DEFAULT_DEMO_DIR = ".tidal-wal-demo"

// An empty string would resolve to the current directory: a quoting slip (`verify "$DIR"` with DIR
// unset) must not silently check, dump or overwrite whatever directory the shell happens to be in.
const nonEmpty = (dir: string) => dir.length > 0
const emptyDirMessage = () => `a non-empty path (use "." for the current directory)`

const dirArgument = Argument.String("dir").pipe(
  Argument.filter(nonEmpty, emptyDirMessage),
  Argument.withDescription("the WAL directory")
)

const parseSeq = (flag: string, text: Option.Option<string>) =>
  Effect.suspend(() => {
    if (Option.isNone(text)) return Effect.succeed(undefined)
    return /^\d{1,20}$/.test(text.value) && BigInt(text.value) <= 0xffff_ffff_ffff_ffffn
      ? Effect.succeed(BigInt(text.value))
      : Effect.fail(
          new UsageError({
            message: `--${flag} must be a sequence number (a u64), got "${text.value}"`,
            command: "dump"
          })
        )
  })

const inspect = Command.make("inspect", { dir: dirArgument }, ({ dir }) => runInspect(dir)).pipe(
  Command.withDescription("Show segments, checkpoint, lock owner and totals (read-only, no lock)")
)

const verify = Command.make("verify", { dir: dirArgument }, ({ dir }) => runVerify(dir)).pipe(
  Command.withDescription(
    "Check every batch and checkpoint.meta; exit 1 with file, offset and reason of the first problem"
  )
)

const dump = Command.make(
  "dump",
  {
    dir: dirArgument,
    from: Flag.String("from").pipe(Flag.withDescription("first sequence number"), Flag.optional),
    to: Flag.String("to").pipe(Flag.withDescription("last sequence number (inclusive)"), Flag.optional),
    format: Flag.Literals("format", ["ndjson", "table"]).pipe(
      Flag.withDescription("ndjson (one JSON object a line) or table"),
      Flag.withDefault("ndjson" as const)
    )
  },
  ({ dir, from, to, format }) =>
    Effect.gen(function* () {
      const fromSeq = (yield* parseSeq("from", from)) ?? 1n
      const toSeq = yield* parseSeq("to", to)
      yield* runDump(dir, fromSeq, toSeq, format)
    })
).pipe(
  Command.withDescription(
    "Print events in order (read-only, no lock); exit 1 naming the damage if the log stops at one"
  )
)

const bench = Command.make(
  "bench",
  {
    writers: Flag.Int("writers").pipe(Flag.withDescription("concurrent appenders"), Flag.withDefault(1000)),
    seconds: Flag.Int("seconds").pipe(Flag.withDescription("seconds per measurement"), Flag.withDefault(3)),
    dir: Flag.String("dir").pipe(
      Flag.filter(nonEmpty, emptyDirMessage),
      Flag.withDescription("parent of the scratch directory"),
      Flag.optional
    )
  },
  ({ writers, seconds, dir }) =>
    Effect.gen(function* () {
      if (writers < 1 || seconds < 1) {
        return yield* new UsageError({
          message: "--writers and --seconds must be at least 1",
          command: "bench"
        })
      }
      yield* runBench({ writers, seconds, dir: Option.getOrUndefined(dir) })
    })
).pipe(Command.withDescription("Throughput and ack latency beside the disk's raw write+sync loop"))

const demo = Command.make(
  "demo",
  {
    dir: Argument.String("dir").pipe(
      Argument.filter(nonEmpty, emptyDirMessage),
      Argument.withDescription(
        `a new or empty directory, or one demo made before (default ${DEFAULT_DEMO_DIR}); any other is refused`
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
    return yield* Command.runWith(cli, { version: VERSION })(argv).pipe(
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
  if (error instanceof UsageError) {
    return Effect.as(usage([PROGRAM, error.command], [error.message]), 2)
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
