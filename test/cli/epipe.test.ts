/**
 * Issue #12, "Command line" item 2: when the reader of stdout goes away (`dump DIR | head -1`),
 * every command that writes to stdout stops quietly — exit 0, nothing on stderr, no uncaught
 * EPIPE — and promptly.
 *
 * Run in-process over a real pipe: a FIFO whose write end is wrapped the way Node wraps a piped
 * process.stdout (a `net.Socket` on the descriptor), so a write after the reader has gone fails
 * with EPIPE from the kernel, as it would in a shell. The reader is closed at once (the first
 * write fails) or after the first chunk (a write mid-stream fails, with writes still queued).
 * An EPIPE nothing listened for would surface here as an uncaught exception, failing the run.
 */
import { execFileSync } from "node:child_process"
import { closeSync, constants, openSync } from "node:fs"
import { Socket } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Path } from "effect"
import { streamOutput } from "../../src/cli/output.ts"
import { runWithOutput, textSink } from "../support/cliRun.ts"
import { buildLog } from "../support/logs.ts"
import { nodeLayer, tempDir } from "../support/wal.ts"

interface Ended {
  readonly code: number
  readonly stderr: string
}

/** A FIFO in a temp directory: its write end as a socket, and its read end's descriptor. */
const pipe = Effect.gen(function* () {
  const path = yield* Path.Path
  const fifo = path.join(yield* tempDir, "stdout.fifo")
  execFileSync("mkfifo", [fifo])
  // The read end first, non-blocking, so opening the write end does not wait for a reader.
  const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK)
  const writer = new Socket({ fd: openSync(fifo, constants.O_WRONLY), readable: false, writable: true })
  yield* Effect.addFinalizer(() => Effect.sync(() => writer.destroy()))
  return { writer, readFd }
})

/** Runs the command line with stdout on a pipe whose reader goes away at `closeAt`. */
const withStdoutClosed = (args: ReadonlyArray<string>, closeAt: "start" | "firstChunk") =>
  Effect.gen(function* () {
    const { writer, readFd } = yield* pipe
    if (closeAt === "start") closeSync(readFd)
    else {
      const reader = new Socket({ fd: readFd, readable: true, writable: false })
      reader.once("data", () => reader.destroy())
    }
    let stderr = ""
    const output = streamOutput(
      writer,
      textSink((text) => {
        stderr += text
      })
    )
    const code = yield* runWithOutput(output, args)
    return { code, stderr } satisfies Ended
  }).pipe(
    Effect.scoped,
    // A command stuck waiting for a drain that never comes is the failure to catch, so bound it.
    Effect.timeoutOrElse({
      duration: Duration.seconds(20),
      orElse: () => Effect.die(new Error(`tidal-wal ${args.join(" ")} did not end within 20 s`))
    })
  )

/** Runs each argument list with stdout closed at `closeAt`, and checks each ended quietly. */
const assertAllQuiet = (runs: ReadonlyArray<ReadonlyArray<string>>, closeAt: "start" | "firstChunk") =>
  Effect.forEach(
    runs,
    (args) =>
      Effect.map(withStdoutClosed(args, closeAt), (ended) => {
        const label = `tidal-wal ${args.join(" ")}`
        assert.strictEqual(ended.stderr, "", `${label} wrote to stderr`)
        assert.strictEqual(ended.code, 0, label)
      }),
    { discard: true }
  )

describe("a reader that closes stdout early", () => {
  it.live("ends dump quietly mid-stream, in both formats", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      // Far more NDJSON (about 2 MB) than a pipe buffers, so writes are still pending at the close.
      yield* buildLog(dir, 20, 1000)
      const runs = [
        ["dump", dir],
        ["dump", dir, "--format", "table"]
      ]
      yield* assertAllQuiet(runs, "firstChunk")
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("ends dump, inspect, verify and --help quietly when stdout is closed before the first write", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* buildLog(dir, 3, 5)
      const runs = [
        ["dump", dir],
        ["inspect", dir],
        ["inspect", dir, "--format", "json"],
        ["verify", dir],
        ["--help"]
      ]
      yield* assertAllQuiet(runs, "start")
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})
