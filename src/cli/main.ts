/**
 * The `tidal-wal` command line (SPEC §5): the command tree and the exit codes — 0 fine, 1 a
 * problem found (or a WAL error), 2 a usage error. A user mistake gets one readable line on
 * stderr, never a stack trace.
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { isWalError } from "../WalError.ts"
import { runBench } from "./bench.ts"
import { runDemo } from "./demo.ts"
import { runDump } from "./dump.ts"
import { ProblemFound, UsageError } from "./errors.ts"
import { runInspect } from "./inspect.ts"
import { runVerify } from "./verify.ts"

const VERSION = "0.1.0"
export const DEFAULT_DEMO_DIR = ".tidal-wal-demo"

const dirArgument = Argument.String("dir").pipe(Argument.withDescription("the WAL directory"))

const parseSeq = (flag: string, text: Option.Option<string>) =>
  Effect.suspend(() => {
    if (Option.isNone(text)) return Effect.succeed(undefined)
    return /^\d{1,20}$/.test(text.value) && BigInt(text.value) <= 0xffff_ffff_ffff_ffffn
      ? Effect.succeed(BigInt(text.value))
      : Effect.fail(
          new UsageError({ message: `--${flag} must be a sequence number (a u64), got "${text.value}"` })
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
).pipe(Command.withDescription("Print events in order (read-only, no lock)"))

const bench = Command.make(
  "bench",
  {
    writers: Flag.Int("writers").pipe(Flag.withDescription("concurrent appenders"), Flag.withDefault(1000)),
    seconds: Flag.Int("seconds").pipe(Flag.withDescription("seconds per measurement"), Flag.withDefault(3)),
    dir: Flag.String("dir").pipe(Flag.withDescription("parent of the scratch directory"), Flag.optional)
  },
  ({ writers, seconds, dir }) =>
    Effect.gen(function* () {
      if (writers < 1 || seconds < 1) {
        return yield* new UsageError({ message: "--writers and --seconds must be at least 1" })
      }
      yield* runBench({ writers, seconds, dir: Option.getOrUndefined(dir) })
    })
).pipe(Command.withDescription("Throughput and ack latency beside the disk's raw write+sync loop"))

const demo = Command.make(
  "demo",
  {
    dir: Argument.String("dir").pipe(
      Argument.withDescription(`WAL directory (default ${DEFAULT_DEMO_DIR})`),
      Argument.optional
    )
  },
  ({ dir }) => runDemo(Option.getOrElse(dir, () => DEFAULT_DEMO_DIR))
).pipe(
  Command.withDescription("Append from concurrent producers, reopen, and show the replay and recovery report")
)

export const cli = Command.make("tidal-wal").pipe(
  Command.withDescription("A durable write-ahead log for signal events"),
  Command.withSubcommands([inspect, verify, dump, bench, demo])
)

const exitWith = (code: number) =>
  Effect.sync(() => {
    process.exitCode = code
  })

const fail = (code: number, message: string) =>
  Console.error(`tidal-wal: ${message}`).pipe(Effect.andThen(exitWith(code)))

export const main = (argv: ReadonlyArray<string>) =>
  Command.runWith(cli, { version: VERSION })(argv).pipe(
    Effect.catch((error: unknown) => {
      if (isWalError(error) || error instanceof ProblemFound) return fail(1, error.message)
      if (error instanceof UsageError) return fail(2, error.message)
      if (typeof error === "object" && error !== null && "_tag" in error && error._tag === "ShowHelp") {
        // The parser has already printed the help and the error.
        const errors = "errors" in error && Array.isArray(error.errors) ? error.errors : []
        return exitWith(errors.length === 0 ? 0 : 2)
      }
      return fail(2, String(error))
    })
  )

if (import.meta.main) {
  main(process.argv.slice(2)).pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain)
}
