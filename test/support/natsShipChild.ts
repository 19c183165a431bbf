/**
 * A child process for the JetStream crash test: opens the WAL in argv[2], ships it to the stream
 * argv[4] on the servers argv[3] (subject `<prefix>.<walId>`, prefix argv[5]), and appends from
 * argv[7] fibers (events numbered from argv[6] × 1,000,000) until the parent SIGKILLs it.
 *
 * Prints `ready` once the shipper has started (connected, stream checked, resume point read), and
 * `shipped N` whenever the shipped seq moves; output is synchronous so what the parent reads
 * happened before the kill.
 */
import { writeSync } from "node:fs"
// Deep imports: the package index loads every platform module, doubling the start-up time.
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Layer, Schedule } from "effect"
import type { SignalEvent } from "../../src/index.ts"
import { WalHandle } from "../../src/index.ts"
import { JetStreamShipper } from "../../src/jetstream/index.ts"

const [dir = "", servers = "", stream = "", prefix = "", roundText = "0", fibersText = "10"] =
  process.argv.slice(2)
/** Distinct events (test/support/wal.ts's formula, copied: that module loads the whole platform). */
const eventsFor = (count: number, from: number): Array<SignalEvent> =>
  Array.from({ length: count }, (_, i) => ({
    entityId: BigInt(from + i) * 7919n + 1n,
    signalType: (from + i) % 4,
    weight: Math.fround(((from + i) % 1000) / 8),
    timestamp: 1_700_000_000_000_000_000n + BigInt(from + i)
  }))

const say = (text: string) => Effect.sync(() => writeSync(1, `${text}\n`))

const program = Effect.gen(function* () {
  const [wal] = yield* WalHandle.open({ dir, segmentMaxBytes: 32 * 1024 })
  const shipper = yield* JetStreamShipper.make(wal, {
    servers: servers.split(","),
    stream,
    subject: (walId) => `${prefix}.${walId}`,
    retryMinDelay: "20 millis",
    retryMaxDelay: "200 millis"
  })
  yield* say("ready")
  let lastReported = -1n
  yield* Effect.forkChild(
    Effect.repeat(
      Effect.flatMap(shipper.shippedSeq, (seq) => {
        if (seq === lastReported) return Effect.void
        lastReported = seq
        return say(`shipped ${seq}`)
      }),
      Schedule.spaced("10 millis")
    )
  )
  let next = Number(roundText) * 1_000_000
  yield* Effect.forEach(
    Array.from({ length: Number(fibersText) }, (_, fiber) => fiber),
    (fiber) =>
      Effect.forever(
        Effect.suspend(() => {
          const count = 1 + ((next + fiber) % 37)
          const from = next
          next += count
          return wal.appendAll(eventsFor(count, from))
        })
      ),
    { concurrency: "unbounded", discard: true }
  )
}).pipe(Effect.scoped, Effect.provide(Layer.mergeAll(NodeFileSystem.layer, NodePath.layer)))

NodeRuntime.runMain(program)
