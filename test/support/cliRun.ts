/**
 * Runs the `tidal-wal` command line for tests, in this process: `runCli` with stdout and stderr
 * captured (`runInProcess`), or written to streams a test provides (`runWithOutput`), such as a
 * real pipe whose reader goes away. No Node start-up per run, so these tests stay fast.
 * `runNode` spawns a script on the test's Node, for the one smoke test of the real bin.
 */
import { execFile } from "node:child_process"
import { Console as NodeConsole } from "node:console"
import { Writable } from "node:stream"
import { Console, Effect } from "effect"
import { runCli } from "../../src/cli/main.ts"
import { Output } from "../../src/cli/output.ts"

export interface CliRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Whether the captured streams claim to be terminals (then progress lines are drawn on stderr). */
export interface CaptureOptions {
  readonly stdoutIsTerminal?: boolean
  readonly stderrIsTerminal?: boolean
}

/** The command line in this process with its output captured; needs the Node services (`nodeLayer`). */
export const runInProcess = (...args: ReadonlyArray<string>) => runCaptured({}, ...args)

/**
 * As `runInProcess`, with the terminal flags given. Both ways the CLI could print are captured:
 * the `Output` service, and Effect's `Console`, which effect/cli's own presenter writes to — so
 * help leaking onto stdout shows up here as it would in a shell.
 */
export const runCaptured = (options: CaptureOptions, ...args: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    let stdout = ""
    let stderr = ""
    const toStdout = (text: string) => {
      stdout += text
    }
    const toStderr = (text: string) => {
      stderr += text
    }
    const captured: Output = {
      stdout: (text) => Effect.sync(() => toStdout(text)),
      stderr: (text) => Effect.sync(() => toStderr(text)),
      stdoutIsTerminal: options.stdoutIsTerminal ?? false,
      stderrIsTerminal: options.stderrIsTerminal ?? false
    }
    const console = new NodeConsole({ stdout: textSink(toStdout), stderr: textSink(toStderr) })
    const code = yield* runWithOutput(captured, args).pipe(Effect.provideService(Console.Console, console))
    return { code, stdout, stderr } satisfies CliRun
  })

/** The command line in this process, writing through `output`; returns the exit code. */
export const runWithOutput = (output: Output, args: ReadonlyArray<string>) =>
  runCli(args).pipe(Effect.provideService(Output, output))

/** A writable that hands every chunk to `append` as text. */
export const textSink = (append: (text: string) => void) =>
  new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      append(String(chunk))
      done()
    }
  })

/** `script` with `args` in a child process on the test's Node, run to completion. */
export const runNode = (script: string, ...args: ReadonlyArray<string>) =>
  Effect.callback<CliRun>((resume) => {
    const child = execFile(
      process.execPath,
      [script, ...args],
      { maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1
        resume(Effect.succeed({ code, stdout, stderr }))
      }
    )
    return Effect.sync(() => child.kill("SIGKILL"))
  })
