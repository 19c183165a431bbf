/**
 * The `tidal-wal` command line (SPEC §5): the command tree, and exit codes — 0 fine, 1 a problem
 * found (or a WAL error), 2 a usage error. A user mistake gets one readable line, never a trace.
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Console, Data, Effect, Option } from "effect"
import { Argument, Command } from "effect/cli"
import { isWalError } from "../WalError.ts"
import { runDemo } from "./demo.ts"

const VERSION = "0.1.0"
const DEFAULT_DEMO_DIR = ".tidal-wal-demo"

/** A check found a problem: exit 1 with this message. */
export class ProblemFound extends Data.TaggedError("ProblemFound")<{ readonly message: string }> {}

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
  Command.withSubcommands([demo])
)

const exitWith = (code: number) =>
  Effect.sync(() => {
    process.exitCode = code
  })

export const main = (argv: ReadonlyArray<string>) =>
  Command.runWith(cli, { version: VERSION })(argv).pipe(
    Effect.catch((error: unknown) => {
      if (isWalError(error) || error instanceof ProblemFound) {
        return Console.error(`tidal-wal: ${error.message}`).pipe(Effect.andThen(exitWith(1)))
      }
      if (typeof error === "object" && error !== null && "_tag" in error && error._tag === "ShowHelp") {
        const errors = "errors" in error && Array.isArray(error.errors) ? error.errors : []
        return exitWith(errors.length === 0 ? 0 : 2)
      }
      return Console.error(`tidal-wal: ${String(error)}`).pipe(Effect.andThen(exitWith(2)))
    })
  )

if (import.meta.main) {
  main(process.argv.slice(2)).pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain)
}
