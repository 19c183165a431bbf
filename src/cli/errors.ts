/**
 * Outcomes of the command line that are not WAL errors: a problem a check found (exit 1) and a
 * usage mistake the parser could not catch (exit 2).
 */
import { Data } from "effect"

export class ProblemFound extends Data.TaggedError("ProblemFound")<{ readonly message: string }> {}

/** `command` is the subcommand the mistake was made in, so the hint can point at its --help. */
export class UsageError extends Data.TaggedError("UsageError")<{
  readonly message: string
  readonly command: string
}> {}
