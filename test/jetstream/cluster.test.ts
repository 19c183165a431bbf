/**
 * The failure test on a real 3-node JetStream cluster (test/support/nats.ts) with a stream of 3
 * replicas: while the WAL is appended to and shipped, and a follower reads the copy live, the
 * node leading the stream is SIGKILLed, the cluster elects another leader, and the node is
 * started again. Afterwards the copy holds every event exactly once, in WAL order, with no gap —
 * through `JetStreamSource.read`, through the follower, and by walking the stream's headers and
 * its own message count.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Schedule, Stream } from "effect"
import { WalHandle } from "../../src/index.ts"
import { JetStreamShipper, JetStreamSource } from "../../src/jetstream/index.ts"
import { natsCluster } from "../support/nats.ts"
import { inspectCopy, withRaw } from "../support/natsCopy.ts"
import {
  appendSpread,
  assertSameEvents,
  copyEvents,
  freshStream,
  testShipperOptions,
  walEvents
} from "../support/natsShip.ts"
import { nodeLayer, settle, tempDir } from "../support/wal.ts"

describe("a 3-node cluster, stream with 3 replicas", () => {
  it.live(
    "the stream leader killed and restarted while shipping: every event exactly once, in WAL order",
    () =>
      Effect.gen(function* () {
        const cluster = yield* natsCluster(3)
        // On failure, the servers' own account of it.
        yield* Effect.addFinalizer((exit) =>
          Exit.isFailure(exit)
            ? Effect.sync(() => {
                for (const node of cluster.nodes)
                  console.error(`--- ${node.name} ---\n${node.logs().slice(-6000)}`)
              })
            : Effect.void
        )
        const { stream, subject } = yield* freshStream(cluster.urls, 3)
        const [wal] = yield* WalHandle.open({ dir: yield* tempDir, segmentMaxBytes: 64 * 1024 })
        // A 3-server cluster on a loaded 2-core machine may be between leaders for a moment: the
        // layer fails fast on that (Unavailable), and an application retries it, as here.
        const shipper = yield* JetStreamShipper.make(wal, {
          servers: cluster.urls,
          stream,
          subject,
          ...testShipperOptions,
          publishTimeout: "3 seconds"
        }).pipe(
          Effect.retry({ times: 5, while: (error) => error._tag === "JetStreamError" && error.isTransient })
        )
        const total = 20 * 15 * 100
        let followed = 0
        // A materializer's loop: follow from its position, and after a failure (a request timing
        // out while the cluster elects leaders) resume from the last event it applied.
        let lastApplied = 0n
        const follower = yield* Effect.forkChild(
          Stream.suspend(() =>
            JetStreamSource.follow({
              servers: cluster.urls,
              stream,
              subject: shipper.subject,
              fromSeq: lastApplied + 1n,
              // A loaded 2-core machine running three servers answers slowly.
              requestTimeout: "15 seconds"
            })
          ).pipe(
            // Up to about 30 s of retries: a leader election on a loaded 2-core machine running three
            // servers can outlast several request timeouts (seen in CI: "creating an ordered
            // consumer: timeout" after 10 quick retries).
            Stream.retry(Schedule.spaced("500 millis").pipe(Schedule.upTo({ times: 60 }))),
            Stream.take(total),
            Stream.tap((event) =>
              Effect.sync(() => {
                followed++
                lastApplied = event.seq
              })
            ),
            Stream.runCollect
          )
        )
        const appending = yield* Effect.forkChild(appendSpread(wal, 20, 15, 30))
        const startDeadline = Date.now() + 30_000
        while (followed === 0 && Date.now() < startDeadline && follower.pollUnsafe() === undefined)
          yield* settle(20)
        assert.isAbove(
          followed,
          0,
          `the follower receives events (it ended with ${String(follower.pollUnsafe())})`
        )

        const info = yield* withRaw(cluster.urls, ({ jsm }) => jsm.streams.info(stream))
        assert.strictEqual(info.config.num_replicas, 3)
        const leader = cluster.nodes.find((node) => node.name === info.cluster?.leader)
        assert.isDefined(
          leader,
          `the stream has a leader among ${cluster.nodes.map((n) => n.name).join(", ")}`
        )
        if (leader === undefined) return
        yield* leader.kill
        const shippedAtKill = yield* shipper.shippedSeq
        // Shipping goes on through the new leader while the old one is down.
        const deadline = Date.now() + 20_000
        while ((yield* shipper.shippedSeq) <= shippedAtKill + 100n && Date.now() < deadline) yield* settle(50)
        assert.isTrue((yield* shipper.shippedSeq) > shippedAtKill + 100n, "shipping resumed with two nodes")
        yield* leader.start

        yield* Fiber.join(appending)
        const lastSeq = (yield* wal.nextSeq) - 1n
        assert.strictEqual(lastSeq, BigInt(total))
        yield* shipper.awaitShipped(lastSeq).pipe(Effect.timeout("60 seconds"))
        const expected = yield* walEvents(wal)
        // The restarted node may still be catching up: a read that times out is retried, as a reader would.
        const transient = Effect.retry({
          times: 5,
          while: (error: unknown) =>
            typeof error === "object" &&
            error !== null &&
            "isTransient" in error &&
            error.isTransient === true
        })
        assertSameEvents(yield* copyEvents(cluster.urls, stream, shipper.subject).pipe(transient), expected)
        const facts = yield* inspectCopy(cluster.urls, stream, shipper.subject).pipe(transient)
        assert.deepStrictEqual(facts.problems, [])
        assert.strictEqual(facts.events, total)
        assert.strictEqual(facts.walkedMessages, facts.subjectMessages)
        assertSameEvents(yield* Fiber.join(follower).pipe(Effect.timeout("60 seconds")), expected)
      }).pipe(Effect.provide(nodeLayer)),
    120_000
  )
})
