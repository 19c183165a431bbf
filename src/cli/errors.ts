/**
 * The outcome of the command line that is not a WAL error: a problem a check found (exit 1).
 * Usage mistakes (exit 2) are all caught by the parser, as effect/cli's own errors.
 */
import { Data } from "effect"

export class ProblemFound extends Data.TaggedError("ProblemFound")<{ readonly message: string }> {}
