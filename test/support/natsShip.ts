/**
 * Helpers shared by the JetStream tests: a fresh stream per test, shipper options that retry
 * fast, and the two views of a log compared by every exactly-once test — the WAL's own `read`
 * and the copy's `JetStreamSource.read`.
 */
import { assert } from "@effect/vitest"
import { Effect, Stream } from "effect"
import type { ReplayedEvent, WalHandleShape } from "../../src/index.ts"
import { ensureStream, JetStreamSource } from "../../src/jetstream/index.ts"
import { withRaw } from "./natsCopy.ts"
import { eventsFor, plainEvent, settle } from "./wal.ts"

let streams = 0

/** A fresh stream taking `<name>.>` (one per test), and the subject for one WAL in it. */
export const freshStream = (servers: string | ReadonlyArray<string>, replicas = 1) =>
  Effect.gen(function* () {
    const stream = `SHIP${process.pid}X${++streams}`
    const prefix = stream.toLowerCase()
    yield* ensureStream({ servers, stream, subjects: [`${prefix}.>`], replicas })
    if (replicas > 1) yield* waitForReplicas(servers, stream, replicas)
    return { stream, subject: (walId: string) => `${prefix}.${walId}` }
  })

/** Polls until the stream has a leader and every replica is current (a fresh R3 stream takes a moment). */
const waitForReplicas = (servers: string | ReadonlyArray<string>, stream: string, replicas: number) =>
  withRaw(servers, async ({ jsm }) => {
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline) {
      const info = await jsm.streams.info(stream).catch(() => undefined)
      const followers = info?.cluster?.replicas ?? []
      const ready =
        info?.cluster?.leader !== undefined && followers.filter((r) => r.current).length === replicas - 1
      if (ready) return
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    throw new Error(`stream ${stream} has no leader with ${replicas - 1} current followers after 30 s`)
  })

/** Fast retries and a short publish timeout, so failure tests take seconds. */
export const testShipperOptions = {
  publishTimeout: "1 second",
  retryMinDelay: "20 millis",
  retryMaxDelay: "200 millis",
  lagSampleInterval: "50 millis",
  drainTimeout: "3 seconds"
} as const

/** The WAL's events from `fromSeq`, as the WAL reads them. */
export const walEvents = (wal: WalHandleShape, fromSeq = 1n) => Stream.runCollect(wal.read(fromSeq))

/** The copy's events from `fromSeq`, through `JetStreamSource.read`. */
export const copyEvents = (
  servers: string | ReadonlyArray<string>,
  stream: string,
  subject: string,
  fromSeq = 1n
) => Stream.runCollect(JetStreamSource.read({ servers, stream, subject, fromSeq }))

/** Asserts the same events, seq and fields, in the same order. */
export const assertSameEvents = (
  actual: ReadonlyArray<ReplayedEvent>,
  expected: ReadonlyArray<ReplayedEvent>
) => {
  assert.strictEqual(actual.length, expected.length, "as many events in the copy as in the WAL")
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]
    const e = expected[i]
    if (a === undefined || e === undefined || a.seq !== e.seq || !sameFields(a, e)) {
      assert.fail(`event ${i}: copy ${show(a)}, WAL ${show(e)}`)
    }
  }
}

const sameFields = (a: ReplayedEvent, e: ReplayedEvent) =>
  a.entityId === e.entityId &&
  a.signalType === e.signalType &&
  Object.is(a.weight, e.weight) &&
  a.timestamp === e.timestamp

const show = (event: ReplayedEvent | undefined) =>
  event === undefined
    ? "nothing"
    : JSON.stringify({ seq: event.seq, ...plainEvent(event) }, (_, v) =>
        typeof v === "bigint" ? `${v}n` : v
      )

/** `chunks` appendAll calls of 100 events from `fibers` fibers, `pauseMillis` apart in each fiber. */
export const appendSpread = (
  wal: WalHandleShape,
  fibers: number,
  chunks: number,
  pauseMillis: number,
  base = 0
) =>
  Effect.forEach(
    Array.from({ length: fibers }, (_, fiber) => fiber),
    (fiber) =>
      Effect.forEach(
        Array.from({ length: chunks }, (_, chunk) => chunk),
        (chunk) =>
          Effect.andThen(
            wal.appendAll(eventsFor(100, base + (fiber * chunks + chunk) * 100)),
            settle(pauseMillis)
          ),
        { discard: true }
      ),
    { concurrency: "unbounded", discard: true }
  )
