/**
 * Terminal output for the CLI. Every command writes through the `Output` service rather than to
 * `process.stdout`, for two reasons: a reader that goes away early (`dump DIR | head -1`) must end
 * the command quietly instead of crashing Node with an unhandled EPIPE, and tests can run the
 * whole command line in-process with the output captured.
 *
 * A progress line is drawn on stderr, and only when stderr is a terminal: stdout carries only
 * results (`bench > results.txt` still shows progress on the terminal), and piped or captured
 * output stays clean.
 */
import type { Writable } from "node:stream"
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
  /** Whether progress lines are drawn (on stderr). */
  readonly stderrIsTerminal: boolean
}

/** A stream the CLI writes to: the process's own, or (in tests) any writable, such as a pipe. */
export type OutputStream = Writable & { readonly isTTY?: boolean }

/** The process's own streams unless a caller (a test) provides another `Output`. */
export const Output = Context.Reference<Output>("tidal-wal/cli/Output", {
  defaultValue: () => streamOutput(process.stdout, process.stderr)
})

/**
 * An `Output` over two Node streams. It listens for stream errors itself: without a listener, an
 * EPIPE on stdout is an uncaught exception that prints a stack trace.
 */
export const streamOutput = (stdout: OutputStream, stderr: OutputStream): Output => {
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
    stdoutIsTerminal: stdout.isTTY === true,
    stderrIsTerminal: stderr.isTTY === true
  }
}

/** Resumes once the stream drains, or fails if it errors or closes meanwhile (then it never drains). */
const awaitDrain = (
  stream: OutputStream,
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

/** Carriage return, then erase the whole line (ANSI EL 2). */
export const CLEAR_LINE = "\r\x1b[2K"

/** Redraws one status line in place on stderr; a no-op when stderr is not a terminal. */
export const progress = (text: string): Effect.Effect<void> => whenInteractive(`${CLEAR_LINE}${text}`)

/** Erases the status line, so the next output starts on a clean line. */
export const clearProgress: Effect.Effect<void> = whenInteractive(CLEAR_LINE)

function whenInteractive(text: string): Effect.Effect<void> {
  return Output.use((output) => (output.stderrIsTerminal ? output.stderr(text) : Effect.void))
}

/** Formats a table with right-aligned numeric columns. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const format = (cells: ReadonlyArray<string>) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ")
  return [format(header), ...rows.map(format)].join("\n")
}

export const formatCount = (n: number | bigint): string => n.toLocaleString("en-US")
