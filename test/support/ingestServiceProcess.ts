/**
 * Runs examples/ingest-service/main.ts as a real child process, on the same Node binary as the
 * tests. It listens on a loopback port the kernel picks (`--port 0`); the URL is read from the
 * service's "listening on" line on stdout. Output is kept for failure messages.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

const mainScript = fileURLToPath(new URL("../../examples/ingest-service/main.ts", import.meta.url))

const LISTENING_LINE = /ingest-service listening on (http:\/\/\S+)/

export interface IngestServiceProcess {
  readonly url: string
  readonly child: ChildProcess
  /** Resolves with the exit code (null when killed by a signal) once the process is gone. */
  readonly exited: Promise<number | null>
  /** Everything the process wrote to stdout and stderr so far. */
  readonly output: () => string
}

/** Starts the service with `args` and waits for its listening line (rejects if it exits first). */
export const startIngestService = (
  args: ReadonlyArray<string>,
  startTimeoutMillis = 45_000
): Promise<IngestServiceProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mainScript, "--host", "127.0.0.1", "--port", "0", ...args], {
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    let url: string | undefined
    const exited = new Promise<number | null>((resolveExit) => {
      child.on("close", (code) => {
        if (url === undefined)
          reject(new Error(`ingest-service exited (${code}) before listening:\n${output}`))
        resolveExit(code)
      })
    })
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`ingest-service did not listen within ${startTimeoutMillis} ms:\n${output}`))
    }, startTimeoutMillis)
    const collect = (chunk: string) => {
      output += chunk
      const match = url === undefined ? LISTENING_LINE.exec(output) : null
      if (match?.[1] !== undefined) {
        url = match[1]
        clearTimeout(timer)
        resolve({ url, child, exited, output: () => output })
      }
    }
    child.stdout.setEncoding("utf8").on("data", collect)
    child.stderr.setEncoding("utf8").on("data", collect)
  })

/** Sends `signal` and waits until the process is gone; resolves with its exit code. */
export const stopIngestService = (
  service: IngestServiceProcess,
  signal: "SIGKILL" | "SIGTERM"
): Promise<number | null> => {
  service.child.kill(signal)
  return service.exited
}
