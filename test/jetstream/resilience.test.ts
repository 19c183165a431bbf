/**
 * The shipper against a server that goes away, on one real nats-server started for this file:
 * killed and restarted mid-stream (the shipper and a live follower reconnect and resume), frozen
 * with SIGSTOP (appends go on at full speed, the shipper falls behind and catches up), and the
 * retention hold (while events are unshipped, `truncateBefore` keeps them). Every test ends with
 * the copy equal to the WAL, checked through the source and by walking the stream's headers.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Context, Duration, Effect, Fiber, Layer, Metric, Stream } from "effect"
import { WalHandle, type WalHandleShape } from "../../src/index.ts"
import { JetStreamShipper, type JetStreamShipperShape, JetStreamSource } from "../../src/jetstream/index.ts"
import { shipperMetricsFor } from "../../src/jetstream/shipperMetrics.ts"
import { type NatsNode, natsServer } from "../support/nats.ts"
import { inspectCopy } from "../support/natsCopy.ts"
import {
  appendSpread,
  assertSameEvents,
  copyEvents,
  freshStream,
  testShipperOptions,
  walEvents
} from "../support/natsShip.ts"
import { eventsFor, nodeLayer, settle, tempDir } from "../support/wal.ts"

class Nats extends Context.Service<Nats, NatsNode>()("test/ResilienceNats") {}

/** Polls `shipper.status` until it is `Retrying` (the shipper noticed), failing after `millis`. */
const awaitRetrying = (shipper: JetStreamShipperShape, millis = 10_000) =>
  Effect.gen(function* () {
    const deadline = Date.now() + millis
    while ((yield* shipper.status)._tag !== "Retrying") {
      if (Date.now() > deadline) return assert.fail(`status still ${(yield* shipper.status)._tag}`)
      yield* settle(20)
    }
  })

const assertCopyEqualsWal = (url: string, stream: string, subject: string, wal: WalHandleShape) =>
  Effect.gen(function* () {
    const expected = yield* walEvents(wal)
    assertSameEvents(yield* copyEvents(url, stream, subject), expected)
    const facts = yield* inspectCopy(url, stream, subject)
    assert.deepStrictEqual(facts.problems, [])
    assert.strictEqual(facts.events, expected.length)
    assert.strictEqual(facts.walkedMessages, facts.subjectMessages)
    return expected
  })

layer(Layer.effect(Nats, natsServer), { excludeTestServices: true, timeout: "60 seconds" })(
  "resilience",
  (it) => {
    describe("lost connection", () => {
      it.effect(
        "a server killed and restarted mid-stream: the shipper and a follower reconnect and resume, each event once",
        () =>
          Effect.gen(function* () {
            const node = yield* Nats
            const { stream, subject } = yield* freshStream(node.url)
            const [wal] = yield* WalHandle.open({ dir: yield* tempDir, segmentMaxBytes: 64 * 1024 })
            const shipper = yield* JetStreamShipper.make(wal, {
              servers: node.url,
              stream,
              subject,
              ...testShipperOptions
            })
            const total = 20 * 10 * 100
            let followed = 0
            const follower = yield* Effect.forkChild(
              JetStreamSource.follow({
                servers: node.url,
                stream,
                subject: shipper.subject,
                fromSeq: 1n
              }).pipe(
                Stream.take(total),
                Stream.tap(() => Effect.sync(() => followed++)),
                Stream.runCollect
              )
            )
            const appending = yield* Effect.forkChild(appendSpread(wal, 20, 10, 20))
            // Both connected and busy before the kill: the follower has received shipped events.
            const startDeadline = Date.now() + 30_000
            while (followed === 0 && Date.now() < startDeadline && follower.pollUnsafe() === undefined) {
              yield* settle(20)
            }
            assert.isAbove(
              followed,
              0,
              `the follower receives events (it ended with ${String(follower.pollUnsafe())})`
            )
            yield* node.kill
            yield* awaitRetrying(shipper)
            yield* node.start
            yield* Fiber.join(appending)
            yield* shipper.awaitShipped(BigInt(total)).pipe(Effect.timeout("30 seconds"))
            const expected = yield* assertCopyEqualsWal(node.url, stream, shipper.subject, wal)
            assert.strictEqual(expected.length, total)
            assertSameEvents(yield* Fiber.join(follower).pipe(Effect.timeout("30 seconds")), expected)
          }).pipe(Effect.provide(nodeLayer)),
        60_000
      )
    })

    describe("back-pressure", () => {
      it.effect(
        "JetStream frozen: appends complete at full speed, the shipper falls behind, then catches up exactly",
        () =>
          Effect.gen(function* () {
            const node = yield* Nats
            const { stream, subject } = yield* freshStream(node.url)
            const dir = yield* tempDir
            const [wal] = yield* WalHandle.open({ dir, segmentMaxBytes: 64 * 1024 })
            const shipper = yield* JetStreamShipper.make(wal, {
              servers: node.url,
              stream,
              subject,
              ...testShipperOptions
            })
            yield* wal.appendAll(eventsFor(1000))
            yield* shipper.awaitShipped(1000n)
            yield* node.pause
            // Every append is acknowledged while the server cannot answer anything.
            yield* appendSpread(wal, 50, 4, 0, 1000)
            const lastSeq = (yield* wal.nextSeq) - 1n
            assert.strictEqual(lastSeq, 21_000n)
            yield* awaitRetrying(shipper)
            assert.strictEqual(yield* shipper.shippedSeq, 1000n)
            yield* settle(100)
            const metrics = shipperMetricsFor(dir, shipper.subject)
            assert.strictEqual((yield* Metric.value(metrics.lagEvents)).value, 20_000)
            assert.isAbove((yield* Metric.value(metrics.lagMillis)).value, 0)
            yield* node.resume
            yield* shipper.awaitShipped(lastSeq).pipe(Effect.timeout("30 seconds"))
            assert.strictEqual((yield* shipper.status)._tag, "Shipping")
            yield* assertCopyEqualsWal(node.url, stream, shipper.subject, wal)
          }).pipe(Effect.provide(nodeLayer)),
        60_000
      )
    })

    describe("a stalled tail", () => {
      it.effect(
        "the WAL's tail stops delivering with events waiting: the shipper reads them anew, exactly once",
        () =>
          Effect.gen(function* () {
            const node = yield* Nats
            const { stream, subject } = yield* freshStream(node.url)
            const [wal] = yield* WalHandle.open({ dir: yield* tempDir })
            // The first tail goes quiet after 300 events, as a tail whose wake-up was lost would.
            let tails = 0
            const stalling: WalHandleShape = {
              ...wal,
              tail: (fromSeq) => {
                tails++
                return tails === 1
                  ? Stream.concat(Stream.take(wal.tail(fromSeq), 300), Stream.never)
                  : wal.tail(fromSeq)
              }
            }
            const shipper = yield* JetStreamShipper.make(stalling, {
              servers: node.url,
              stream,
              subject,
              ...testShipperOptions
            })
            yield* wal.appendAll(eventsFor(1000))
            yield* shipper.awaitShipped(1000n).pipe(Effect.timeout("15 seconds"))
            assert.strictEqual(tails, 2, "one restart with a fresh tail")
            assert.strictEqual((yield* shipper.status)._tag, "Shipping")
            yield* assertCopyEqualsWal(node.url, stream, shipper.subject, wal)
          }).pipe(Effect.provide(nodeLayer))
      )
    })

    describe("shutdown", () => {
      it.effect("releasing the shipper while JetStream is frozen waits drainTimeout, not for ever", () =>
        Effect.gen(function* () {
          const node = yield* Nats
          const { stream, subject } = yield* freshStream(node.url)
          const [wal] = yield* WalHandle.open({ dir: yield* tempDir })
          const stopped = yield* Effect.scoped(
            Effect.gen(function* () {
              const shipper = yield* JetStreamShipper.make(wal, {
                servers: node.url,
                stream,
                subject,
                ...testShipperOptions,
                drainTimeout: "300 millis"
              })
              yield* node.pause
              yield* wal.appendAll(eventsFor(100))
              return shipper
            })
          ).pipe(Effect.ensuring(node.resume), Effect.timed)
          const [elapsed, shipper] = stopped
          assert.isBelow(Duration.toMillis(elapsed), 5000, "released within a few seconds")
          assert.strictEqual((yield* shipper.status)._tag, "Stopped")
          const error = yield* Effect.flip(shipper.awaitShipped(100n))
          assert.strictEqual(error.reason, "Stopped")
        }).pipe(Effect.provide(nodeLayer))
      )
    })

    describe("retention", () => {
      it.effect(
        "truncateBefore cannot delete unshipped events; once they are shipped it can",
        () =>
          Effect.gen(function* () {
            const node = yield* Nats
            const { stream, subject } = yield* freshStream(node.url)
            const [wal] = yield* WalHandle.open({ dir: yield* tempDir, segmentMaxBytes: 8 * 1024 })
            const shipper = yield* JetStreamShipper.make(wal, {
              servers: node.url,
              stream,
              subject,
              ...testShipperOptions
            })
            yield* wal.appendAll(eventsFor(500))
            yield* shipper.awaitShipped(500n)
            yield* node.pause
            for (let i = 0; i < 20; i++) yield* wal.appendAll(eventsFor(100, 500 + i * 100))
            const lastSeq = (yield* wal.nextSeq) - 1n
            // Materialized everything: the checkpoint allows truncating it all.
            yield* wal.checkpoint(lastSeq)
            yield* wal.truncateBefore(lastSeq)
            const firstKept = (yield* wal.listSegments)[0]?.firstSeq ?? 0n
            assert.isTrue(
              firstKept <= 501n,
              `the segment holding seq 501 is kept; the WAL starts at ${firstKept}`
            )
            const kept = yield* walEvents(wal, 501n)
            assert.strictEqual(kept.length, Number(lastSeq) - 500, "every unshipped event is still readable")
            yield* node.resume
            yield* shipper.awaitShipped(lastSeq).pipe(Effect.timeout("30 seconds"))
            const copy = yield* copyEvents(node.url, stream, shipper.subject, 501n)
            assertSameEvents(copy, kept)
            assert.isAbove(yield* wal.truncateBefore(lastSeq), 0, "shipped segments can go now")
          }).pipe(Effect.provide(nodeLayer)),
        60_000
      )
    })
  }
)
