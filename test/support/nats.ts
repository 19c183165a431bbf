/**
 * Real nats-server processes for the JetStream tests: a single server, or a 3-node cluster, each
 * on free loopback ports with its own temporary store directory, stopped (and the directory
 * removed) when the scope closes. Never a server that happens to be running.
 *
 * A node can be killed (SIGKILL), paused (SIGSTOP, a server that stops answering without closing
 * its sockets) and started again on the same ports and store, as a crashed server comes back.
 * nats-server must be installed (`.ci/install-nats-server`); without it the tests fail saying so.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { Effect, type Scope } from "effect"

export interface NatsNode {
  readonly name: string
  /** `127.0.0.1:port`, for `servers`. */
  readonly url: string
  /** Kills the process with SIGKILL and waits for it to exit. */
  readonly kill: Effect.Effect<void>
  /** Starts it again on the same ports and store, and waits until it accepts clients. */
  readonly start: Effect.Effect<void>
  /** SIGSTOP / SIGCONT: the server stops answering while its connections stay open. */
  readonly pause: Effect.Effect<void>
  readonly resume: Effect.Effect<void>
  /** The last lines the server logged, for a failing test's message. */
  readonly logs: () => string
  /** The server process's id while it runs (for CPU accounting in the bench). */
  readonly pid: () => number | undefined
}

/** One JetStream server on a free port; stopped when the scope closes. */
export const natsServer: Effect.Effect<NatsNode, never, Scope.Scope> = Effect.gen(function* () {
  requireNatsServer()
  const root = yield* tempRoot
  const port = yield* freePort
  const node = makeNode({ name: "solo", clientPort: port, storeDir: join(root, "solo"), cluster: undefined })
  yield* Effect.addFinalizer(() => node.kill)
  yield* node.start
  yield* waitForJetStream([node.url])
  return node
})

export interface NatsCluster {
  readonly nodes: ReadonlyArray<NatsNode>
  readonly urls: ReadonlyArray<string>
}

/** `size` JetStream servers routed into one cluster; stopped when the scope closes. */
export const natsCluster = (size = 3): Effect.Effect<NatsCluster, never, Scope.Scope> =>
  Effect.gen(function* () {
    requireNatsServer()
    const root = yield* tempRoot
    const clientPorts: Array<number> = []
    const routePorts: Array<number> = []
    for (let i = 0; i < size; i++) {
      clientPorts.push(yield* freePort)
      routePorts.push(yield* freePort)
    }
    const routes = routePorts.map((port) => `nats://127.0.0.1:${port}`).join(",")
    const nodes = clientPorts.map((clientPort, i) =>
      makeNode({
        name: `n${i + 1}`,
        clientPort,
        storeDir: join(root, `n${i + 1}`),
        cluster: { routePort: routePorts[i] ?? 0, routes }
      })
    )
    for (const node of nodes) yield* Effect.addFinalizer(() => node.kill)
    yield* Effect.forEach(nodes, (node) => node.start, { concurrency: "unbounded", discard: true })
    const urls = nodes.map((node) => node.url)
    yield* waitForJetStream(urls)
    return { nodes, urls }
  })

/** Polls until JetStream answers an account-info request (in a cluster: a meta leader exists). */
export const waitForJetStream = (urls: ReadonlyArray<string>, timeoutMillis = 30_000): Effect.Effect<void> =>
  Effect.promise(async () => {
    const deadline = Date.now() + timeoutMillis
    let lastError: unknown
    while (Date.now() < deadline) {
      try {
        const connection = await connect({ servers: [...urls], timeout: 1000, maxReconnectAttempts: 0 })
        try {
          await jetstreamManager(connection, { timeout: 1000 })
          return
        } finally {
          await connection.close()
        }
      } catch (error) {
        lastError = error
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
    throw new Error(
      `JetStream at ${urls.join(",")} not ready after ${timeoutMillis} ms: ${String(lastError)}`
    )
  })

/** A loopback port nothing listens on (the kernel's pick, released before use). */
export const freePort: Effect.Effect<number> = Effect.promise(
  () =>
    new Promise<number>((resolve, reject) => {
      const server = createServer()
      server.once("error", reject)
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        server.close(() => resolve(port))
      })
    })
)

// internals

interface NodeSpec {
  readonly name: string
  readonly clientPort: number
  readonly storeDir: string
  readonly cluster: { readonly routePort: number; readonly routes: string } | undefined
}

const LOG_TAIL_CHARS = 20_000

const makeNode = (spec: NodeSpec): NatsNode => {
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()
  let logText = ""
  const args = [
    "-js",
    "-a",
    "127.0.0.1",
    "-p",
    String(spec.clientPort),
    "-sd",
    spec.storeDir,
    "-n",
    spec.name
  ]
  if (spec.cluster !== undefined) {
    args.push("--cluster_name", "tidal", "--cluster", `nats://127.0.0.1:${spec.cluster.routePort}`)
    args.push("--routes", spec.cluster.routes)
  }
  const start = Effect.promise(
    () =>
      new Promise<void>((resolve, reject) => {
        const process = spawn(requireNatsServer(), args, { stdio: ["ignore", "ignore", "pipe"] })
        child = process
        exited = new Promise((done) => process.once("exit", () => done()))
        let ready = false
        process.stderr.setEncoding("utf8")
        process.stderr.on("data", (chunk: string) => {
          logText = (logText + chunk).slice(-LOG_TAIL_CHARS)
          if (!ready && logText.includes("Server is ready")) {
            ready = true
            resolve()
          }
        })
        process.once("exit", (code) => {
          if (!ready)
            reject(new Error(`nats-server ${spec.name} exited with ${code} before ready:\n${logText}`))
        })
      })
  )
  const signal = (name: NodeJS.Signals) => Effect.sync(() => child?.kill(name))
  return {
    name: spec.name,
    url: `127.0.0.1:${spec.clientPort}`,
    start: Effect.suspend(() => {
      logText = ""
      return start
    }),
    kill: Effect.suspend(() => {
      const running = child
      child = undefined
      if (running === undefined || running.exitCode !== null) return Effect.void
      running.kill("SIGCONT")
      running.kill("SIGKILL")
      return Effect.promise(() => exited)
    }),
    pause: signal("SIGSTOP"),
    resume: signal("SIGCONT"),
    logs: () => logText,
    pid: () => child?.pid
  }
}

const tempRoot: Effect.Effect<string, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "tidal-wal-nats-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/**
 * The nats-server binary: `NATS_SERVER` if set, else the first that runs of the PATH's and the
 * usual install places — Debian puts it in /usr/sbin, which a non-login PATH often lacks.
 */
const NATS_SERVER_CANDIDATES = [
  process.env.NATS_SERVER,
  "nats-server",
  "/usr/sbin/nats-server",
  "/usr/local/sbin/nats-server",
  "/usr/local/bin/nats-server",
  "/usr/bin/nats-server"
].filter((candidate): candidate is string => candidate !== undefined && candidate !== "")

let natsServerBinary: string | undefined
const requireNatsServer = (): string => {
  if (natsServerBinary !== undefined) return natsServerBinary
  for (const candidate of NATS_SERVER_CANDIDATES) {
    try {
      execFileSync(candidate, ["--version"], { stdio: "ignore" })
      natsServerBinary = candidate
      return candidate
    } catch {
      // Not there, or not runnable: try the next place.
    }
  }
  throw new Error(
    "nats-server is not installed: run `bash .ci/install-nats-server` (Debian: apt-get install nats-server)"
  )
}
