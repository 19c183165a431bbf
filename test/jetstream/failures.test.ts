/**
 * Every failure the shipper and the source report at start, typed, against one real
 * nats-server: nothing listening, no stream, a stream that could lose or refuse the copy, a
 * subject holding another WAL's or a corrupt message, a WAL that no longer matches its copy, and
 * a copy with a gap or a repeat. Each test states which `JetStreamError` reason it expects and
 * that the message names the cause.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, layer } from "@effect/vitest"
import { headers } from "@nats-io/transport-node"
import { Context, Effect, Layer, Stream } from "effect"
import { InvalidConfigError, WalHandle } from "../../src/index.ts"
import {
  EVENT_COUNT_HEADER,
  FIRST_SEQ_HEADER,
  JetStreamError,
  JetStreamShipper,
  JetStreamSource,
  type ShipperOptions,
  WAL_ID_HEADER
} from "../../src/jetstream/index.ts"
import { encodeMessageBody } from "../../src/jetstream/messageFormat.ts"
import { freePort, type NatsNode, natsServer } from "../support/nats.ts"
import { withRaw } from "../support/natsCopy.ts"
import { freshStream, testShipperOptions } from "../support/natsShip.ts"
import { eventsFor, nodeLayer, tempDir } from "../support/wal.ts"

class Nats extends Context.Service<Nats, NatsNode>()("test/FailuresNats") {}

const expectJetStreamError = (error: unknown, reason: JetStreamError["reason"], mentions: string) => {
  assert.instanceOf(error, JetStreamError, String(error))
  if (!(error instanceof JetStreamError)) return
  assert.strictEqual(error.reason, reason, error.message)
  assert.include(error.message, mentions)
}

/** Publishes `events` (consecutive from `events[0].seq`) as the shipper would, tagged with `walId`. */
const plant = (
  url: string,
  subject: string,
  walId: string,
  body: Uint8Array,
  firstSeq: bigint,
  count: number
) =>
  withRaw(url, async ({ js }) => {
    const h = headers()
    h.set(WAL_ID_HEADER, walId)
    h.set(FIRST_SEQ_HEADER, String(firstSeq))
    h.set(EVENT_COUNT_HEADER, String(count))
    await js.publish(subject, body, { headers: h })
  })

const replayed = (from: number, count: number) =>
  eventsFor(count, from).map((event, i) => ({ ...event, seq: BigInt(from + i + 1) }))

const A_WAL_ID = "0123456789abcdef0123456789abcdef"

layer(Layer.effect(Nats, natsServer), { excludeTestServices: true, timeout: "60 seconds" })(
  "failures",
  (it) => {
    describe("at start", () => {
      it.effect("no server listening: Unreachable, for the shipper and the source", () =>
        Effect.gen(function* () {
          const port = yield* freePort
          const servers = `127.0.0.1:${port}`
          const [wal] = yield* WalHandle.open({ dir: yield* tempDir })
          const error = yield* Effect.flip(
            JetStreamShipper.make(wal, { servers, stream: "S", subject: "s.x", connectTimeout: "1 second" })
          )
          expectJetStreamError(error, "Unreachable", servers)
          const readError = yield* Effect.flip(
            Stream.runCollect(JetStreamSource.read({ servers, stream: "S", subject: "s.x", fromSeq: 1n }))
          )
          expectJetStreamError(readError, "Unreachable", servers)
        }).pipe(Effect.provide(nodeLayer))
      )

      it.effect("no such stream: StreamNotFound; the shipper never creates one", () =>
        Effect.gen(function* () {
          const { url } = yield* Nats
          const [wal] = yield* WalHandle.open({ dir: yield* tempDir })
          const error = yield* Effect.flip(
            JetStreamShipper.make(wal, { servers: url, stream: "MISSING", subject: "m.x" })
          )
          expectJetStreamError(error, "StreamNotFound", "MISSING")
          const names = yield* withRaw(url, async ({ jsm }) => {
            const found: Array<string> = []
            for await (const name of jsm.streams.names()) found.push(name)
            return found
          })
          assert.notInclude(names, "MISSING")
          const readError = yield* Effect.flip(
            Stream.runCollect(
              JetStreamSource.read({ servers: url, stream: "MISSING", subject: "m.x", fromSeq: 1n })
            )
          )
          expectJetStreamError(readError, "StreamNotFound", "MISSING")
        }).pipe(Effect.provide(nodeLayer))
      )

      const misconfigurations = [
        {
          name: "subjects not covering the subject",
          config: { subjects: ["elsewhere.>"] },
          mentions: "do not cover"
        },
        { name: "a 1 s duplicate window", config: { duplicate_window: 1e9 }, mentions: "duplicate_window" },
        { name: "discard old with max_msgs", config: { max_msgs: 1000 }, mentions: "discard old" },
        { name: "max_age", config: { max_age: 3600e9 }, mentions: "max_age" },
        {
          name: "max_msgs_per_subject",
          config: { max_msgs_per_subject: 10 },
          mentions: "max_msgs_per_subject"
        },
        { name: "memory storage", config: { storage: "memory" as const }, mentions: "storage memory" },
        {
          name: "interest retention",
          config: { retention: "interest" as const },
          mentions: "retention interest"
        }
      ]
      for (const { name, config, mentions } of misconfigurations) {
        it.effect(`a stream with ${name}: StreamMisconfigured naming the setting`, () =>
          Effect.gen(function* () {
            const { url } = yield* Nats
            const stream = `BAD${misconfigurations.findIndex((m) => m.name === name)}`
            const prefix = stream.toLowerCase()
            yield* withRaw(url, ({ jsm }) =>
              jsm.streams.add({ name: stream, subjects: [`${prefix}.>`], ...config })
            )
            const [wal] = yield* WalHandle.open({ dir: yield* tempDir })
            const error = yield* Effect.flip(
              JetStreamShipper.make(wal, { servers: url, stream, subject: `${prefix}.wal` })
            )
            expectJetStreamError(error, "StreamMisconfigured", mentions)
          }).pipe(Effect.provide(nodeLayer))
        )
      }

      it.effect("a subject another WAL ships to: ForeignMessage, for the shipper and the source", () =>
        Effect.gen(function* () {
          const { url } = yield* Nats
          const { stream } = yield* freshStream(url)
          const subject = `${stream.toLowerCase()}.shared`
          const [first] = yield* WalHandle.open({ dir: yield* tempDir })
          const [second] = yield* WalHandle.open({ dir: yield* tempDir })
          const shipper = yield* JetStreamShipper.make(first, {
            servers: url,
            stream,
            subject,
            ...testShipperOptions
          })
          yield* first.appendAll(eventsFor(10))
          yield* shipper.awaitShipped(10n)
          const error = yield* Effect.flip(JetStreamShipper.make(second, { servers: url, stream, subject }))
          expectJetStreamError(error, "ForeignMessage", second.walId)
          const readError = yield* Effect.flip(
            Stream.runCollect(
              JetStreamSource.read({ servers: url, stream, subject, fromSeq: 1n, walId: second.walId })
            )
          )
          expectJetStreamError(readError, "ForeignMessage", first.walId)
        }).pipe(Effect.provide(nodeLayer))
      )

      it.effect("a WAL directory behind its copy (same id, fewer events): StreamAheadOfWal", () =>
        Effect.gen(function* () {
          const { url } = yield* Nats
          const { stream, subject } = yield* freshStream(url)
          const original = yield* tempDir
          const walId = yield* Effect.scoped(
            Effect.gen(function* () {
              const [wal] = yield* WalHandle.open({ dir: original })
              const shipper = yield* JetStreamShipper.make(wal, {
                servers: url,
                stream,
                subject,
                ...testShipperOptions
              })
              yield* wal.appendAll(eventsFor(50))
              yield* shipper.awaitShipped(50n)
              return wal.walId
            })
          )
          // An older copy of the directory: the same identity, ten events.
          const restored = yield* tempDir
          writeFileSync(join(restored, "wal-id"), `${walId}\n`)
          const [wal] = yield* WalHandle.open({ dir: restored })
          assert.strictEqual(wal.walId, walId)
          yield* wal.appendAll(eventsFor(10))
          const error = yield* Effect.flip(JetStreamShipper.make(wal, { servers: url, stream, subject }))
          expectJetStreamError(error, "StreamAheadOfWal", "50")
        }).pipe(Effect.provide(nodeLayer))
      )

      it.effect("a corrupt message last on the subject: CorruptMessage, for the shipper and the source", () =>
        Effect.gen(function* () {
          const { url } = yield* Nats
          const { stream, subject } = yield* freshStream(url)
          const [wal] = yield* WalHandle.open({ dir: yield* tempDir })
          const body = encodeMessageBody(replayed(0, 5), 1n)
          body[body.length - 1] = (body[body.length - 1] ?? 0) ^ 0xff
          yield* plant(url, subject(wal.walId), wal.walId, body, 1n, 5)
          yield* wal.appendAll(eventsFor(5))
          const error = yield* Effect.flip(JetStreamShipper.make(wal, { servers: url, stream, subject }))
          expectJetStreamError(error, "CorruptMessage", "ChecksumMismatch")
          const readError = yield* Effect.flip(
            Stream.runCollect(
              JetStreamSource.read({ servers: url, stream, subject: subject(wal.walId), fromSeq: 1n })
            )
          )
          expectJetStreamError(readError, "CorruptMessage", "ChecksumMismatch")
        }).pipe(Effect.provide(nodeLayer))
      )

      it.effect(
        "events truncated from the WAL before they were shipped: Gap, and the shipper does not start",
        () =>
          Effect.gen(function* () {
            const { url } = yield* Nats
            const { stream, subject } = yield* freshStream(url)
            const dir = yield* tempDir
            const walConfig = { dir, segmentMaxBytes: 4096 }
            yield* Effect.scoped(
              Effect.gen(function* () {
                const [wal] = yield* WalHandle.open(walConfig)
                const shipper = yield* JetStreamShipper.make(wal, {
                  servers: url,
                  stream,
                  subject,
                  ...testShipperOptions
                })
                yield* wal.appendAll(eventsFor(100))
                yield* shipper.awaitShipped(100n)
              })
            )
            // No shipper holds the WAL now: a checkpoint and a truncation delete unshipped events.
            const [wal] = yield* WalHandle.open(walConfig)
            for (let i = 0; i < 10; i++) yield* wal.appendAll(eventsFor(100, 100 + i * 100))
            yield* wal.checkpoint(1100n)
            assert.isAbove(yield* wal.truncateBefore(1100n), 0)
            const error = yield* Effect.flip(JetStreamShipper.make(wal, { servers: url, stream, subject }))
            expectJetStreamError(error, "Gap", "ends at seq 100")
          }).pipe(Effect.provide(nodeLayer))
      )

      it.effect("bad options: InvalidConfigError naming the option, before connecting", () =>
        Effect.gen(function* () {
          const [wal] = yield* WalHandle.open({ dir: yield* tempDir })
          const servers = "127.0.0.1:1"
          const cases: ReadonlyArray<{ readonly options: ShipperOptions; readonly field: string }> = [
            { options: { servers, stream: "S", subject: "s.*" }, field: "subject" },
            { options: { servers, stream: "S.X", subject: "s.x" }, field: "stream" },
            {
              options: { servers, stream: "S", subject: "s.x", maxMessageBytes: 20 },
              field: "maxMessageBytes"
            },
            { options: { servers: [], stream: "S", subject: "s.x" }, field: "servers" },
            {
              options: { servers, stream: "S", subject: "s.x", publishTimeout: -5 },
              field: "publishTimeout"
            }
          ]
          for (const { options, field } of cases) {
            const error = yield* Effect.flip(JetStreamShipper.make(wal, options))
            assert.instanceOf(error, InvalidConfigError)
            if (error instanceof InvalidConfigError) assert.strictEqual(error.field, field)
          }
          const readError = yield* Effect.flip(
            Stream.runCollect(JetStreamSource.read({ servers, stream: "S", subject: "s.x", fromSeq: -1n }))
          )
          assert.instanceOf(readError, InvalidConfigError)
        }).pipe(Effect.provide(nodeLayer))
      )
    })

    describe("reading a damaged copy", () => {
      const damagedCopies = [
        { name: "a gap", firstSeqs: [1, 11, 31], reason: "Gap" as const, mentions: "continues at 21" },
        {
          name: "a repeat",
          firstSeqs: [1, 11, 11],
          reason: "OutOfOrder" as const,
          mentions: "continues at 21"
        }
      ]
      for (const { name, firstSeqs, reason, mentions } of damagedCopies) {
        it.effect(
          `a copy with ${name}: the source delivers what precedes it, then fails with ${reason}`,
          () =>
            Effect.gen(function* () {
              const { url } = yield* Nats
              const { stream } = yield* freshStream(url)
              const subject = `${stream.toLowerCase()}.${A_WAL_ID}`
              for (const firstSeq of firstSeqs) {
                const body = encodeMessageBody(replayed(firstSeq - 1, 10), 1n)
                yield* plant(url, subject, A_WAL_ID, body, BigInt(firstSeq), 10)
              }
              const delivered: Array<bigint> = []
              const error = yield* Effect.flip(
                Stream.runForEach(
                  JetStreamSource.read({ servers: url, stream, subject, fromSeq: 1n }),
                  (event) => Effect.sync(() => delivered.push(event.seq))
                )
              )
              expectJetStreamError(error, reason, mentions)
              assert.deepStrictEqual(
                delivered,
                Array.from({ length: 20 }, (_, i) => BigInt(i + 1))
              )
            })
        )
      }
    })
  }
)
