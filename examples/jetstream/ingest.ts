/**
 * An ingest process: a WAL on this machine, shipped to JetStream as it grows.
 *
 *   node examples/jetstream/ingest.ts [WAL_DIR] [EVENTS]
 *
 * Opens the WAL in WAL_DIR (default ./jetstream-example/wal-a), makes sure the stream SIGNALS
 * (subjects `signals.>`) exists, ships this WAL to `signals.<walId>`, appends EVENTS events
 * (default 10,000) from 10 fibers, waits until JetStream has acknowledged all of them, and exits.
 * Run it again, or with another WAL_DIR, and each WAL continues its own subject exactly where its
 * copy ends. NATS_URL selects the server (default 127.0.0.1:4222).
 */
import { NodeServices } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { SignalType, WalHandle } from "../../src/index.ts"
import { ensureStream, JetStreamShipper } from "../../src/jetstream/index.ts"

const servers = process.env.NATS_URL ?? "127.0.0.1:4222"
const [dir = "./jetstream-example/wal-a", eventsText = "10000"] = process.argv.slice(2)
const eventCount = Number(eventsText)

const program = Effect.gen(function* () {
  const wal = yield* WalHandle
  const shipper = yield* JetStreamShipper
  console.log(`WAL ${wal.dir} (id ${wal.walId}) ships to ${shipper.stream} / ${shipper.subject}`)
  console.log(`already in JetStream: up to seq ${yield* shipper.shippedSeq}`)
  const base = Date.now() * 1000
  yield* Effect.forEach(
    Array.from({ length: 10 }, (_, fiber) => fiber),
    (fiber) =>
      Effect.forEach(
        Array.from({ length: Math.ceil(eventCount / 10 / 100) }, (_, chunk) => chunk),
        (chunk) =>
          wal.appendAll(
            Array.from({ length: 100 }, (_, i) => ({
              entityId: BigInt(fiber * 1_000_000 + chunk * 100 + i),
              signalType: SignalType.view,
              weight: 1,
              timestamp: BigInt(base + fiber * 1_000_000 + chunk * 100 + i) * 1000n
            }))
          ),
        { discard: true }
      ),
    { concurrency: "unbounded", discard: true }
  )
  const lastSeq = (yield* wal.nextSeq) - 1n
  yield* shipper.awaitShipped(lastSeq).pipe(Effect.timeout("30 seconds"))
  console.log(`appended and shipped up to seq ${lastSeq}; status ${(yield* shipper.status)._tag}`)
})

// The shipper needs the WAL: provide the WAL layer to it, and both to the program.
const walLayer = WalHandle.layer({ dir })
const shipperLayer = JetStreamShipper.layer({
  servers,
  stream: "SIGNALS",
  subject: (walId) => `signals.${walId}`
}).pipe(Layer.provideMerge(walLayer))

await Effect.gen(function* () {
  // A deployment step, done here for the example: create the stream if it is missing.
  const { created } = yield* ensureStream({ servers, stream: "SIGNALS", subjects: ["signals.>"] })
  if (created) console.log("created stream SIGNALS (subjects signals.>)")
  yield* program.pipe(Effect.provide(shipperLayer))
}).pipe(
  Effect.catchTags({
    JetStreamError: (e) => Effect.logError(`JetStream: ${e.reason}: ${e.message}`),
    InvalidConfigError: (e) => Effect.logError(e.message),
    LockedError: (e) => Effect.logError(e.message)
  }),
  Effect.provide(NodeServices.layer),
  Effect.runPromise
)
