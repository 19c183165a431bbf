/**
 * Parent side of the lock tests' child processes (test/support/lockChild.ts): spawns them on the
 * tests' own Node binary — optionally as pid 1 of a new PID namespace — talks to them over stdin,
 * and waits for their report lines.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"

const childScript = fileURLToPath(new URL("./lockChild.ts", import.meta.url))

/** How long a child may take to answer: loaded machines start Node slowly. */
const ANSWER_TIMEOUT_MILLIS = 20_000

export interface LockChild {
  readonly process: ChildProcess
  /** The next unread stdout line that starts with `prefix` (earlier lines stay unread). */
  readonly line: (prefix: string) => Effect.Effect<string>
  readonly send: (line: string) => Effect.Effect<void>
  /** SIGKILL, then waits until the process is gone (its locks with it). */
  readonly kill: Effect.Effect<void>
  readonly stderr: () => string
}

/**
 * `unshare --pid --fork --mount-proc` as this user works here: a child can then be pid 1 of its
 * own PID namespace. `--kill-child` ties its life to the `unshare` process the test kills.
 */
export const pidNamespacesAvailable = (): boolean =>
  spawnSync("unshare", ["--pid", "--fork", "--mount-proc", "--kill-child", "true"]).status === 0

export const spawnLockChild = (
  args: ReadonlyArray<string>,
  options: { readonly ownPidNamespace?: boolean } = {}
): Effect.Effect<LockChild> =>
  Effect.sync(() => {
    const node = [process.execPath, childScript, ...args]
    const [command = "", ...rest] = options.ownPidNamespace
      ? ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", ...node]
      : node
    const child = spawn(command, rest, { stdio: ["pipe", "pipe", "pipe"] })
    return wrap(child)
  })

/** Spawns a child and waits for its `ready PID` line; the child is killed when the scope closes. */
export const readyLockChild = (
  args: ReadonlyArray<string>,
  options: { readonly ownPidNamespace?: boolean } = {}
) =>
  Effect.acquireRelease(
    Effect.flatMap(spawnLockChild(args, options), (child) =>
      Effect.map(child.line("ready "), (line) => ({ child, pid: Number(line.split(" ")[1]) }))
    ),
    ({ child }) => child.kill
  )

/** What another process's open of `dir` answers: `opened PID`, `locked OWNER_PID …` or `error …`. */
export const openFromChild = (dir: string): Effect.Effect<string> =>
  Effect.scoped(
    Effect.flatMap(
      Effect.acquireRelease(spawnLockChild(["open", dir]), (child) => child.kill),
      (child) => child.line("")
    )
  )

// internals

const wrap = (child: ChildProcess): LockChild => {
  const unread: Array<string> = []
  const waiters: Array<{ readonly prefix: string; readonly resolve: (line: string) => void }> = []
  let partial = ""
  let errorText = ""
  const deliver = (line: string) => {
    const index = waiters.findIndex((waiter) => line.startsWith(waiter.prefix))
    const waiter = waiters[index]
    if (waiter === undefined) return unread.push(line)
    waiters.splice(index, 1)
    waiter.resolve(line)
  }
  child.stdout?.setEncoding("utf8")
  child.stdout?.on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n")
    partial = parts.pop() ?? ""
    for (const part of parts) deliver(part)
  })
  child.stderr?.setEncoding("utf8")
  child.stderr?.on("data", (chunk: string) => {
    errorText += chunk
  })
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()))
  const line = (prefix: string) =>
    Effect.promise(
      () =>
        new Promise<string>((resolve, reject) => {
          const index = unread.findIndex((candidate) => candidate.startsWith(prefix))
          const found = unread[index]
          if (found !== undefined) {
            unread.splice(index, 1)
            return resolve(found)
          }
          const timer = setTimeout(
            () => reject(new Error(`no "${prefix}" line from child ${child.pid}; stderr: ${errorText}`)),
            ANSWER_TIMEOUT_MILLIS
          )
          waiters.push({
            prefix,
            resolve: (text) => {
              clearTimeout(timer)
              resolve(text)
            }
          })
        })
    )
  return {
    process: child,
    line,
    send: (text) => Effect.sync(() => child.stdin?.write(`${text}\n`)),
    kill: Effect.promise(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
      return exited
    }),
    stderr: () => errorText
  }
}
