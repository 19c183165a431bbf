/**
 * Issue #12, "Command line" item 2: when the reader of stdout goes away (`dump DIR | head -1`),
 * every command that writes to stdout stops quietly — exit 0, nothing on stderr, no stack trace —
 * and promptly. Only a real process shows this, so the bin runs as a child whose stdout pipe the
 * test closes: at once (the first write fails) or after the first chunk (a write mid-stream fails).
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { spawnBin } from "../support/cliRun.ts"
import { buildLog } from "../support/logs.ts"
import { nodeLayer, tempDir } from "../support/wal.ts"

interface Ended {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stderr: string
}

/** Runs the bin, closes its stdout at `closeAt`, and waits for it to end. */
const withStdoutClosed = (args: ReadonlyArray<string>, closeAt: "start" | "firstChunk") =>
  Effect.callback<Ended>((resume) => {
    const child = spawnBin(args)
    let stderr = ""
    child.stderr.setEncoding("utf8")
    child.stderr.on("data", (chunk: string) => {
      stderr += chunk
    })
    if (closeAt === "start") child.stdout.destroy()
    else child.stdout.once("data", () => child.stdout.destroy())
    child.on("close", (code, signal) => resume(Effect.succeed({ code, signal, stderr })))
    return Effect.sync(() => child.kill("SIGKILL"))
  }).pipe(
    // A child stuck waiting for a drain that never comes is the failure to catch, so bound it.
    Effect.timeoutOrElse({
      duration: Duration.seconds(20),
      orElse: () => Effect.die(new Error(`tidal-wal ${args.join(" ")} did not exit within 20 s`))
    })
  )

/** Runs each argument list with stdout closed at `closeAt`, two at a time, and checks each ended quietly. */
const assertAllQuiet = (runs: ReadonlyArray<ReadonlyArray<string>>, closeAt: "start" | "firstChunk") =>
  Effect.forEach(
    runs,
    (args) =>
      Effect.map(withStdoutClosed(args, closeAt), (ended) => {
        const label = `tidal-wal ${args.join(" ")}`
        assert.strictEqual(ended.stderr, "", `${label} wrote to stderr`)
        assert.strictEqual(ended.signal, null, label)
        assert.strictEqual(ended.code, 0, label)
      }),
    { concurrency: 2, discard: true }
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
      const runs = [["dump", dir], ["inspect", dir], ["verify", dir], ["--help"]]
      yield* assertAllQuiet(runs, "start")
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})
