/**
 * Shipping to one real nats-server (test/support/nats.ts), started for this file on a free
 * loopback port: the copy holds every event exactly once and in WAL order — checked through
 * `JetStreamSource.read` against the WAL's own `read`, and independently by walking the stream's
 * messages by their headers and by the stream's own message count — and a restarted shipper
 * resumes from the stream alone.
 */
import { assert, describe, layer } from "@effect/vitest"
import { headers } from "@nats-io/transport-node"
import { Context, Effect, Layer } from "effect"
import { WalHandle } from "../../src/index.ts"
import {
  EVENT_COUNT_HEADER,
  FIRST_SEQ_HEADER,
  JetStreamShipper,
  messageIdFor,
  WAL_ID_HEADER
} from "../../src/jetstream/index.ts"
import { encodeMessageBody } from "../../src/jetstream/messageFormat.ts"
import { type NatsNode, natsServer } from "../support/nats.ts"
import { inspectCopy, withRaw } from "../support/natsCopy.ts"
import {
  assertSameEvents,
  copyEvents,
  freshStream,
  testShipperOptions,
  walEvents
} from "../support/natsShip.ts"
import { eventsFor, nodeLayer, tempDir } from "../support/wal.ts"

class Nats extends Context.Service<Nats, NatsNode>()("test/ShippingNats") {}

/**
 * Publishes events `firstSeq .. firstSeq + count - 1` — the same events the tests append
 * (`eventsFor`) — as one message tagged with `walId`, under message id `messageId`.
 */
const plantMessage = (
  url: string,
  subject: string,
  walId: string,
  firstSeq: bigint,
  count: number,
  messageId: string
) =>
  withRaw(url, async ({ js }) => {
    const events = eventsFor(count, Number(firstSeq) - 1).map((event, i) => ({
      ...event,
      seq: firstSeq + BigInt(i)
    }))
    const h = headers()
    h.set(WAL_ID_HEADER, walId)
    h.set(FIRST_SEQ_HEADER, String(firstSeq))
    h.set(EVENT_COUNT_HEADER, String(count))
    await js.publish(subject, encodeMessageBody(events, 1n), { headers: h, msgID: messageId })
  })

layer(Layer.effect(Nats, natsServer), { excludeTestServices: true, timeout: "60 seconds" })(
  "shipping to one server",
  (it) => {
    describe("exactly once, in order", () => {
      it.effect(
        "100,000 events appended by 100 fibers are in the stream exactly once, in WAL order",
        () =>
          Effect.gen(function* () {
            const { url } = yield* Nats
            const { stream, subject } = yield* freshStream(url)
            const dir = yield* tempDir
            const [wal] = yield* WalHandle.open({ dir, segmentMaxBytes: 256 * 1024 })
            const shipper = yield* JetStreamShipper.make(wal, {
              servers: url,
              stream,
              subject,
              ...testShipperOptions
            })
            // 100 fibers, each appending 10 chunks of 100 events.
            yield* Effect.forEach(
              Array.from({ length: 100 }, (_, fiber) => fiber),
              (fiber) =>
                Effect.forEach(
                  Array.from({ length: 10 }, (_, chunk) => chunk),
                  (chunk) => wal.appendAll(eventsFor(100, fiber * 1000 + chunk * 100)),
                  { discard: true }
                ),
              { concurrency: "unbounded", discard: true }
            )
            const lastSeq = (yield* wal.nextSeq) - 1n
            assert.strictEqual(lastSeq, 100_000n)
            yield* shipper.awaitShipped(lastSeq)
            assert.strictEqual(yield* shipper.shippedSeq, lastSeq)

            const expected = yield* walEvents(wal)
            assertSameEvents(yield* copyEvents(url, stream, shipper.subject), expected)
            // From the middle of a message, and past the end.
            assertSameEvents(yield* copyEvents(url, stream, shipper.subject, 54_321n), expected.slice(54_320))
            assert.strictEqual((yield* copyEvents(url, stream, shipper.subject, 100_001n)).length, 0)

            const facts = yield* inspectCopy(url, stream, shipper.subject)
            assert.deepStrictEqual(facts.problems, [])
            assert.strictEqual(facts.events, 100_000)
            assert.strictEqual(facts.firstSeq, 1n)
            assert.strictEqual(facts.lastSeq, 100_000n)
            assert.strictEqual(facts.walkedMessages, facts.subjectMessages)
          }).pipe(Effect.provide(nodeLayer)),
        60_000
      )

      it.effect(
        "an earlier attempt that lands first (same message id, fewer events): the shipper re-reads the copy's end and continues after it",
        () =>
          Effect.gen(function* () {
            const { url } = yield* Nats
            const { stream, subject } = yield* freshStream(url)
            const [wal] = yield* WalHandle.open({ dir: yield* tempDir })
            const shipper = yield* JetStreamShipper.make(wal, {
              servers: url,
              stream,
              subject,
              ...testShipperOptions
            })
            // As if a publish of events 1..5 from before a crash reached the server only now.
            yield* plantMessage(url, shipper.subject, wal.walId, 1n, 5, messageIdFor(wal.walId, 1n))
            yield* wal.appendAll(eventsFor(20))
            yield* shipper.awaitShipped(20n)
            yield* wal.appendAll(eventsFor(20, 20))
            yield* shipper.awaitShipped(40n)
            assertSameEvents(yield* copyEvents(url, stream, shipper.subject), yield* walEvents(wal))
            const facts = yield* inspectCopy(url, stream, shipper.subject)
            assert.deepStrictEqual(facts.problems, [])
            assert.strictEqual(facts.events, 40)
          }).pipe(Effect.provide(nodeLayer))
      )

      it.effect(
        "a stray publish on the subject between two of the shipper's: refused by the expected last sequence, never doubled",
        () =>
          Effect.gen(function* () {
            const { url } = yield* Nats
            const { stream, subject } = yield* freshStream(url)
            const [wal] = yield* WalHandle.open({ dir: yield* tempDir })
            const shipper = yield* JetStreamShipper.make(wal, {
              servers: url,
              stream,
              subject,
              ...testShipperOptions
            })
            yield* wal.appendAll(eventsFor(10))
            yield* shipper.awaitShipped(10n)
            // Events 11..15 under another message id: no duplicate window can recognise them.
            yield* plantMessage(url, shipper.subject, wal.walId, 11n, 5, "stray")
            yield* wal.appendAll(eventsFor(10, 10))
            yield* shipper.awaitShipped(20n)
            assertSameEvents(yield* copyEvents(url, stream, shipper.subject), yield* walEvents(wal))
            const facts = yield* inspectCopy(url, stream, shipper.subject)
            assert.deepStrictEqual(facts.problems, [])
            assert.strictEqual(facts.events, 20)
          }).pipe(Effect.provide(nodeLayer))
      )

      it.effect(
        "a restarted shipper resumes where the stream's copy ends: no event twice, none missing",
        () =>
          Effect.gen(function* () {
            const { url } = yield* Nats
            const { stream, subject } = yield* freshStream(url)
            const dir = yield* tempDir
            const options = { servers: url, stream, subject, ...testShipperOptions }
            const walConfig = { dir, segmentMaxBytes: 16 * 1024 }
            yield* Effect.scoped(
              Effect.gen(function* () {
                const [wal] = yield* WalHandle.open(walConfig)
                const shipper = yield* JetStreamShipper.make(wal, options)
                yield* wal.appendAll(eventsFor(1000))
                yield* shipper.awaitShipped(1000n)
              })
            )
            // Appended while no shipper runs.
            yield* Effect.scoped(
              Effect.flatMap(WalHandle.open(walConfig), ([wal]) => wal.appendAll(eventsFor(1500, 1000)))
            )
            const [wal] = yield* WalHandle.open(walConfig)
            const shipper = yield* JetStreamShipper.make(wal, options)
            assert.strictEqual(yield* shipper.shippedSeq, 1000n, "the resume point is read from the stream")
            yield* wal.appendAll(eventsFor(500, 2500))
            yield* shipper.awaitShipped(3000n)
            assertSameEvents(yield* copyEvents(url, stream, shipper.subject), yield* walEvents(wal))
            const facts = yield* inspectCopy(url, stream, shipper.subject)
            assert.deepStrictEqual(facts.problems, [])
            assert.strictEqual(facts.events, 3000)
          }).pipe(Effect.provide(nodeLayer))
      )
    })
  }
)
