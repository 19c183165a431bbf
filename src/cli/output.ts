/**
 * Terminal output for the CLI. Every command writes through the `Output` service rather than to
 * `process.stdout`, for two reasons: a reader that goes away early (`dump DIR | head -1`) must end
 * the command quietly instead of crashing Node with an unhandled EPIPE, and tests can run the
 * whole command line in-process with the output captured.
 *
 * A progress line is drawn only when stdout is a terminal, so piped or captured output stays clean.
 */
import { Context, Data, Effect } from "effect"

/** stdout can no longer be written: the reader closed the pipe (EPIPE) or the device failed. */
export class StdoutClosed extends Data.TaggedError("StdoutClosed")<{ readonly code: string | undefined }> {
  override get message(): string {
    return `cannot write to stdout (${this.code ?? "closed"})`
  }
}

export interface Output {
  /** Writes to stdout, waiting while its buffer is full so a large dump streams in bounded memory. */
  readonly stdout: (text: string) => Effect.Effect<void, StdoutClosed>
  /** Writes to stderr; never fails, since there is nowhere left to report a failure. */
  readonly stderr: (text: string) => Effect.Effect<void>
  readonly stdoutIsTerminal: boolean
}

/** The process's own streams unless a caller (a test) provides another `Output`. */
export const Output = Context.Reference<Output>("tidal-wal/cli/Output", {
  defaultValue: () => streamOutput(process.stdout, process.stderr)
})

/**
 * An `Output` over two Node streams. It listens for stream errors itself: without a listener, an
 * EPIPE on stdout is an uncaught exception that prints a stack trace.
 */
export const streamOutput = (stdout: NodeJS.WriteStream, stderr: NodeJS.WriteStream): Output => {
  let closed: StdoutClosed | undefined
  stdout.on("error", (error: NodeJS.ErrnoException) => {
    closed ??= new StdoutClosed({ code: error.code })
  })
  stdout.on("close", () => {
    closed ??= new StdoutClosed({ code: undefined })
  })
  stderr.on("error", () => {})
  return {
    stdout: (text) =>
      Effect.callback<void, StdoutClosed>((resume) => {
        if (closed !== undefined) return resume(Effect.fail(closed))
        if (stdout.write(text)) return resume(Effect.void)
        return awaitDrain(stdout, () => closed, resume)
      }),
    stderr: (text) =>
      Effect.sync(() => {
        stderr.write(text)
      }),
    stdoutIsTerminal: stdout.isTTY === true
  }
}

/** Resumes once the stream drains, or fails if it errors or closes meanwhile (then it never drains). */
const awaitDrain = (
  stream: NodeJS.WriteStream,
  closed: () => StdoutClosed | undefined,
  resume: (effect: Effect.Effect<void, StdoutClosed>) => void
): Effect.Effect<void> => {
  const settle = () => {
    detach()
    const failure = closed()
    resume(failure === undefined ? Effect.void : Effect.fail(failure))
  }
  const detach = () => {
    stream.off("drain", settle)
    stream.off("error", settle)
    stream.off("close", settle)
  }
  stream.on("drain", settle)
  stream.on("error", settle)
  stream.on("close", settle)
  return Effect.sync(detach)
}

export const line = (text = ""): Effect.Effect<void, StdoutClosed> =>
  Output.use((output) => output.stdout(`${text}\n`))

/** One line on stderr. */
export const errorLine = (text: string): Effect.Effect<void> =>
  Output.use((output) => output.stderr(`${text}\n`))

/** Redraws one status line in place; a no-op when stdout is not a terminal. */
export const progress = (text: string): Effect.Effect<void> => whenInteractive(`\r\x1b[2K${text}`)

export const clearProgress: Effect.Effect<void> = whenInteractive("\r\x1b[2K")

function whenInteractive(text: string): Effect.Effect<void> {
  // A lost progress line is harmless; the next real line reports a closed stdout.
  return Output.use((output) => (output.stdoutIsTerminal ? Effect.ignore(output.stdout(text)) : Effect.void))
}

/** Formats a table with right-aligned numeric columns. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const format = (cells: ReadonlyArray<string>) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ")
  return [format(header), ...rows.map(format)].join("\n")
}

export const formatCount = (n: number | bigint): string => n.toLocaleString("en-US")
