/**
 * Runs the `tidal-wal` command line for tests. `runInProcess` calls `runCli` with stdout and stderr
 * captured: no Node start-up per run, so usage tests stay fast. `runBin` spawns the real bin, for
 * what only a real process shows: its exit status end to end. `spawnBin` hands back the child
 * itself, for tests that play the reader on the other end of the pipe (EPIPE).
 */
import { type ChildProcessByStdio, execFile, spawn } from "node:child_process"
import { Console as NodeConsole } from "node:console"
import { type Readable, Writable } from "node:stream"
import { fileURLToPath } from "node:url"
import { Console, Effect } from "effect"
import { runCli } from "../../src/cli/main.ts"
import { Output } from "../../src/cli/output.ts"

export const binPath = fileURLToPath(new URL("../../bin/tidal-wal.js", import.meta.url))

export interface CliRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/**
 * The command line in this process; needs the Node services (`nodeLayer`). Both ways it could
 * print are captured: the `Output` service, and Effect's `Console`, which effect/cli's own
 * presenter writes to — so help leaking onto stdout shows up here as it would in a shell.
 */
export const runInProcess = (...args: ReadonlyArray<string>) =>
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
      stdoutIsTerminal: false
    }
    const console = new NodeConsole({ stdout: textSink(toStdout), stderr: textSink(toStderr) })
    const code = yield* runCli(args).pipe(
      Effect.provideService(Output, captured),
      Effect.provideService(Console.Console, console)
    )
    return { code, stdout, stderr } satisfies CliRun
  })

const textSink = (append: (text: string) => void) =>
  new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      append(String(chunk))
      done()
    }
  })

/** The real bin in a child process on the test's Node, run to completion. */
export const runBin = (...args: ReadonlyArray<string>) =>
  Effect.callback<CliRun>((resume) => {
    execFile(
      process.execPath,
      [binPath, ...args],
      { maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1
        resume(Effect.succeed({ code, stdout, stderr }))
      }
    )
  })

/** The real bin with stdout and stderr as pipes the test reads (or closes). */
export const spawnBin = (args: ReadonlyArray<string>): ChildProcessByStdio<null, Readable, Readable> =>
  spawn(process.execPath, [binPath, ...args], { stdio: ["ignore", "pipe", "pipe"] })
