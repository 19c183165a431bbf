/**
 * Spawns test/support/crashChild.ts on the same Node binary as the tests, collects its stdout
 * lines, and kills it with SIGKILL.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

const childScript = fileURLToPath(new URL("./crashChild.ts", import.meta.url))

export interface RunningChild {
  readonly process: ChildProcess
  readonly lines: Array<string>
  /** Resolves when the child printed `ready` (rejects if it exits first). */
  readonly ready: Promise<void>
  readonly exited: Promise<number | null>
  readonly stderr: () => string
}

export const spawnChild = (args: ReadonlyArray<string>): RunningChild => {
  const child = spawn(process.execPath, [childScript, ...args], { stdio: ["ignore", "pipe", "pipe"] })
  const lines: Array<string> = []
  let partial = ""
  let errorText = ""
  let onReady: () => void = () => {}
  let onEarlyExit: (error: Error) => void = () => {}
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve
    onEarlyExit = reject
  })
  child.stdout.setEncoding("utf8")
  child.stdout.on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n")
    partial = parts.pop() ?? ""
    for (const part of parts) {
      if (part === "ready") onReady()
      else lines.push(part)
    }
  })
  child.stderr.setEncoding("utf8")
  child.stderr.on("data", (chunk: string) => {
    errorText += chunk
  })
  const exited = new Promise<number | null>((resolve) => {
    child.on("close", (code) => {
      onEarlyExit(new Error(`child exited with ${code} before ready: ${errorText}`))
      resolve(code)
    })
  })
  return { process: child, lines, ready, exited, stderr: () => errorText }
}

export const sigkill = async (child: RunningChild): Promise<void> => {
  child.process.kill("SIGKILL")
  await child.exited
}
