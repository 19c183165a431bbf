/**
 * Exactly once across real crashes of the shipping process: a child process (test/support/
 * natsShipChild.ts) appends from many fibers and ships to a real nats-server; the parent SIGKILLs
 * it at a seeded random moment — during start-up, or while it ships — and starts the next one on
 * the same WAL directory. After the last round the parent ships what is left and checks that the
 * copy holds every event of the WAL exactly once, in order, with no gap: through
 * `JetStreamSource.read` against the WAL's own `read`, and by walking the stream's headers and
 * its own message count.
 *
 * JETSTREAM_CRASH_SEED reruns a run exactly (the kill moments and fiber counts; the processes'
 * own timing still varies); JETSTREAM_CRASH_ROUNDS raises the count for soak runs.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { WalHandle } from "../../src/index.ts"
import { JetStreamShipper } from "../../src/jetstream/index.ts"
import { natsServer } from "../support/nats.ts"
import { inspectCopy } from "../support/natsCopy.ts"
import {
  assertSameEvents,
  copyEvents,
  freshStream,
  testShipperOptions,
  walEvents
} from "../support/natsShip.ts"
import { makeRng } from "../support/sim/rng.ts"
import { nodeLayer, settle, tempDir } from "../support/wal.ts"

const ROUNDS = Number(process.env.JETSTREAM_CRASH_ROUNDS ?? 12)
const SEED = Number(process.env.JETSTREAM_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31))
const childScript = fileURLToPath(new URL("../support/natsShipChild.ts", import.meta.url))

interface ShipChild {
  readonly lines: Array<string>
  readonly ready: Promise<boolean>
  readonly kill: () => Promise<void>
}

const spawnShipChild = (args: ReadonlyArray<string>): ShipChild => {
  const child = spawn(process.execPath, [childScript, ...args], { stdio: ["ignore", "pipe", "pipe"] })
  const lines: Array<string> = []
  let partial = ""
  let markReady: (ready: boolean) => void = () => {}
  const ready = new Promise<boolean>((resolve) => {
    markReady = resolve
  })
  child.stdout.setEncoding("utf8")
  child.stdout.on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n")
    partial = parts.pop() ?? ""
    for (const part of parts) {
      if (part === "ready") markReady(true)
      lines.push(part)
    }
  })
  child.stderr.resume()
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()))
  void exited.then(() => markReady(false))
  return {
    lines,
    ready,
    kill: () => {
      child.kill("SIGKILL")
      return exited
    }
  }
}

describe("real crashes of the shipping process (SIGKILL)", () => {
  it.live(
    `${ROUNDS} seeded kill/restart rounds (JETSTREAM_CRASH_SEED=${SEED}): every event shipped exactly once, in order`,
    () =>
      Effect.gen(function* () {
        console.log(
          `jetstream crash test: rerun with JETSTREAM_CRASH_SEED=${SEED} JETSTREAM_CRASH_ROUNDS=${ROUNDS} npx vitest run test/jetstream/crash.test.ts`
        )
        const rng = makeRng(SEED)
        const node = yield* natsServer
        const { stream, subject } = yield* freshStream(node.url)
        const prefix = subject("").slice(0, -1)
        const dir = yield* tempDir
        let killedWhileShipping = 0
        for (let round = 1; round <= ROUNDS; round++) {
          const fibers = rng.int(5, 60)
          const child = spawnShipChild([dir, node.url, stream, prefix, String(round), String(fibers)])
          // A quarter of the kills land anywhere from spawn on (often during start-up), the rest
          // while the child ships.
          if (rng.chance(0.25)) {
            yield* settle(rng.int(30, 900))
          } else {
            const ready = yield* Effect.promise(() => child.ready)
            assert.isTrue(
              ready,
              `round ${round}: the child exited before it was ready: ${child.lines.join("\n")}`
            )
            yield* settle(rng.int(0, 700))
          }
          yield* Effect.promise(() => child.kill())
          if (child.lines.some((line) => line.startsWith("shipped ") && line !== "shipped 0"))
            killedWhileShipping++
        }
        assert.isAtLeast(killedWhileShipping, Math.floor(ROUNDS / 3), "most kills hit a shipping process")

        const [wal] = yield* WalHandle.open({ dir, segmentMaxBytes: 32 * 1024 })
        const shipper = yield* JetStreamShipper.make(wal, {
          servers: node.url,
          stream,
          subject,
          ...testShipperOptions
        })
        const lastSeq = (yield* wal.nextSeq) - 1n
        yield* shipper.awaitShipped(lastSeq).pipe(Effect.timeout("30 seconds"))
        const expected = yield* walEvents(wal)
        assert.strictEqual(BigInt(expected.length), lastSeq, "the WAL holds every event from 1")
        assertSameEvents(yield* copyEvents(node.url, stream, shipper.subject), expected)
        const facts = yield* inspectCopy(node.url, stream, shipper.subject)
        assert.deepStrictEqual(facts.problems, [])
        assert.strictEqual(facts.events, expected.length)
        assert.strictEqual(facts.firstSeq, 1n)
        assert.strictEqual(facts.lastSeq, lastSeq)
        assert.strictEqual(facts.walkedMessages, facts.subjectMessages)
      }).pipe(
        Effect.provide(nodeLayer),
        Effect.tapCause(() =>
          Effect.sync(() =>
            console.error(
              `failed: rerun with JETSTREAM_CRASH_SEED=${SEED} JETSTREAM_CRASH_ROUNDS=${ROUNDS} npx vitest run test/jetstream/crash.test.ts`
            )
          )
        )
      ),
    { timeout: 30_000 + ROUNDS * 4_000 }
  )
})
