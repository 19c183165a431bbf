/**
 * The pure parts of the JetStream shipping, without a server: the message body (a WAL batch,
 * verified as recovery verifies one), subject matching, the stream rules the shipper enforces,
 * the lag arithmetic, the reader's verifier, and the binary search for where a read starts.
 */
import { assert, describe, it } from "@effect/vitest"
import type { StreamConfig } from "@nats-io/jetstream"
import { Effect } from "effect"
import fc from "fast-check"
import type { ReplayedEvent } from "../../src/index.ts"
import { LagTracker } from "../../src/jetstream/lagTracker.ts"
import {
  decodeMessageBody,
  encodeMessageBody,
  eventsOf,
  eventsPerMessage,
  messageIdFor
} from "../../src/jetstream/messageFormat.ts"
import { MessageVerifier } from "../../src/jetstream/messageVerifier.ts"
import { retryDelayMillis } from "../../src/jetstream/shipLoop.ts"
import { lastMessageStartingAtOrBefore } from "../../src/jetstream/sourcePlan.ts"
import {
  literalSubjectProblem,
  messageBytesWithin,
  shippingProblems,
  subjectMatches
} from "../../src/jetstream/streamChecks.ts"
import { arbitraryEvent } from "../support/arbitrary.ts"
import { eventsFor, stored } from "../support/wal.ts"

const replayedFrom = (firstSeq: bigint, count: number): Array<ReplayedEvent> =>
  eventsFor(count, Number(firstSeq)).map((event, i) => ({ ...stored(event), seq: firstSeq + BigInt(i) }))

describe("message format", () => {
  it("a body decodes to the events it was encoded from, seq and fields", () =>
    fc.assert(
      fc.property(
        fc.array(arbitraryEvent, { minLength: 1, maxLength: 50 }),
        fc.bigInt({ min: 1n, max: 2n ** 63n }),
        (events, firstSeq) => {
          const replayed = events.map((event, i) => ({ ...stored(event), seq: firstSeq + BigInt(i) }))
          const body = decodeMessageBody(encodeMessageBody(replayed, 7n))
          if (typeof body === "string") return assert.fail(body)
          assert.strictEqual(body.firstSeq, firstSeq)
          assert.strictEqual(body.eventCount, events.length)
          assert.strictEqual(body.lastSeq, firstSeq + BigInt(events.length) - 1n)
          assert.deepStrictEqual(eventsOf(body, 0n), replayed)
        }
      )
    ))

  it("a flipped byte anywhere, or bytes after the batch, is refused with the reason", () => {
    const bytes = encodeMessageBody(replayedFrom(10n, 5), 1n)
    for (let offset = 0; offset < bytes.length; offset++) {
      const damaged = bytes.slice()
      damaged[offset] = (damaged[offset] ?? 0) ^ 0x01
      assert.strictEqual(typeof decodeMessageBody(damaged), "string", `flip at byte ${offset} accepted`)
    }
    const longer = new Uint8Array(bytes.length + 1)
    longer.set(bytes)
    assert.include(String(decodeMessageBody(longer)), "1 bytes after the batch")
  })

  it("eventsOf starts at fromSeq inside a message", () => {
    const body = decodeMessageBody(encodeMessageBody(replayedFrom(100n, 10), 1n))
    if (typeof body === "string") return assert.fail(body)
    assert.deepStrictEqual(
      eventsOf(body, 105n).map((e) => e.seq),
      [105n, 106n, 107n, 108n, 109n]
    )
  })

  it("message ids name the WAL and the first seq; a message size holds whole events", () => {
    assert.strictEqual(messageIdFor("ab", 42n), "ab:42")
    assert.strictEqual(eventsPerMessage(64 + 21), 1)
    assert.strictEqual(eventsPerMessage(256 * 1024), 12_480)
  })
})

describe("subjects", () => {
  const cases: ReadonlyArray<readonly [string, string, boolean]> = [
    ["signals.>", "signals.abc", true],
    ["signals.>", "signals.a.b", true],
    ["signals.>", "signals", false],
    ["signals.*", "signals.abc", true],
    ["signals.*", "signals.a.b", false],
    ["*.x", "signals.x", true],
    ["signals.abc", "signals.abc", true],
    ["signals.abc", "signals.abd", false],
    [">", "anything.at.all", true]
  ]
  for (const [pattern, subject, expected] of cases) {
    it(`${pattern} ${expected ? "covers" : "does not cover"} ${subject}`, () => {
      assert.strictEqual(subjectMatches(pattern, subject), expected)
    })
  }

  it("a subject to publish to is literal, without empty tokens or whitespace", () => {
    assert.isUndefined(literalSubjectProblem("signals.0123"))
    for (const bad of ["", "a..b", ".a", "a.", "a b", "a.*", "a.>"]) {
      assert.isDefined(literalSubjectProblem(bad), JSON.stringify(bad))
    }
  })
})

describe("stream requirements", () => {
  const fit: StreamConfig = {
    name: "S",
    subjects: ["signals.>"],
    retention: "limits",
    storage: "file",
    discard: "new",
    max_consumers: -1,
    max_msgs: -1,
    max_bytes: -1,
    max_age: 0,
    max_msgs_per_subject: -1,
    max_msg_size: -1,
    num_replicas: 3,
    duplicate_window: 120e9,
    sealed: false,
    first_seq: 0,
    deny_delete: false,
    deny_purge: false,
    allow_rollup_hdrs: false,
    allow_direct: false,
    mirror_direct: false,
    discard_new_per_subject: false,
    allow_msg_counter: false,
    persist_mode: "default"
  }
  const requirements = { subject: "signals.abc", minDuplicateWindowNanos: 30e9 }

  it("a stream made as ensureStream makes it has no problem", () => {
    assert.deepStrictEqual(shippingProblems(fit, requirements), [])
    // Discard new with limits refuses publishes when full (the WAL keeps the events): allowed.
    assert.deepStrictEqual(shippingProblems({ ...fit, max_bytes: 1e9, max_msgs: 1e6 }, requirements), [])
  })

  const problems: ReadonlyArray<readonly [string, Partial<StreamConfig>, string]> = [
    ["subjects", { subjects: ["other.>"] }, "do not cover signals.abc"],
    ["retention", { retention: "workqueue" }, "retention workqueue"],
    ["storage", { storage: "memory" }, "storage memory"],
    ["max_age", { max_age: 1e9 }, "max_age"],
    ["max_msgs_per_subject", { max_msgs_per_subject: 1 }, "max_msgs_per_subject"],
    ["discard old + max_bytes", { discard: "old", max_bytes: 1e9 }, "discard old"],
    ["duplicate_window", { duplicate_window: 10e9 }, "duplicate_window 10 s is below 30 s"],
    ["sealed", { sealed: true }, "sealed"],
    ["no_ack", { no_ack: true }, "no_ack"],
    ["mirror", { mirror: { name: "OTHER" } }, "mirror"]
  ]
  for (const [setting, change, mentions] of problems) {
    it(`${setting}: named as a problem`, () => {
      const found = shippingProblems({ ...fit, ...change }, requirements)
      assert.strictEqual(found.length, 1, found.join("; "))
      assert.include(found[0], mentions)
    })
  }

  it("the message size stays within the server's max_payload and the stream's max_msg_size", () => {
    assert.strictEqual(messageBytesWithin(256 * 1024, 1024 * 1024, -1), 256 * 1024)
    assert.strictEqual(messageBytesWithin(256 * 1024, 64 * 1024, -1), 64 * 1024 - 512)
    assert.strictEqual(messageBytesWithin(256 * 1024, 1024 * 1024, 4096), 4096 - 512)
    assert.strictEqual(messageBytesWithin(256 * 1024, undefined, 0), 256 * 1024)
  })
})

describe("lag", () => {
  it("events: durable minus acknowledged; millis: age of the oldest unacknowledged observation", () => {
    const lag = new LagTracker(0n, 10)
    assert.strictEqual(lag.lagEvents(), 0n)
    assert.strictEqual(lag.lagMillis(1000), 0)
    lag.observeDurable(100n, 1000)
    lag.observeDurable(150n, 1005) // within the resolution: joins the first mark
    lag.observeDurable(200n, 1050)
    assert.strictEqual(lag.lagEvents(), 200n)
    assert.strictEqual(lag.lagMillis(1100), 100)
    lag.acknowledged(120n)
    assert.strictEqual(lag.lagEvents(), 80n)
    assert.strictEqual(lag.lagMillis(1100), 100, "events 121..150 were seen with the first mark")
    lag.acknowledged(150n)
    assert.strictEqual(lag.lagMillis(1100), 50)
    lag.acknowledged(200n)
    assert.strictEqual(lag.lagEvents(), 0n)
    assert.strictEqual(lag.lagMillis(1100), 0)
  })

  it("marks stay bounded through a long outage, and compaction keeps the answer", () => {
    const lag = new LagTracker(0n, 10)
    for (let i = 1; i <= 10_000; i++) lag.observeDurable(BigInt(i), i * 20)
    for (let i = 1; i <= 9_000; i++) lag.acknowledged(BigInt(i))
    assert.strictEqual(lag.lagEvents(), 1000n)
    assert.strictEqual(lag.lagMillis(200_000), 200_000 - 9_001 * 20)
  })
})

describe("reading a copy", () => {
  const target = { stream: "S", subject: "s.w" }
  const message = (seq: number, firstSeq: bigint, count: number, walId = "w") => ({
    seq,
    walId,
    data: encodeMessageBody(replayedFrom(firstSeq, count), 1n)
  })

  it("delivers from fromSeq, continuing message to message", () => {
    const verifier = new MessageVerifier(target, 5n, undefined)
    const first = verifier.accept(message(1, 1n, 10))
    assert.deepStrictEqual(Array.isArray(first) ? first.map((e) => e.seq) : first, [5n, 6n, 7n, 8n, 9n, 10n])
    const second = verifier.accept(message(2, 11n, 2))
    assert.deepStrictEqual(Array.isArray(second) ? second.map((e) => e.seq) : second, [11n, 12n])
  })

  const refusals: ReadonlyArray<readonly [string, ReturnType<typeof message>, string]> = [
    ["a gap", message(2, 12n, 2), "Gap"],
    ["a repeat", message(2, 5n, 6), "OutOfOrder"],
    ["another WAL", message(2, 11n, 2, "v"), "ForeignMessage"],
    ["a corrupt body", { seq: 2, walId: "w", data: new Uint8Array(70) }, "CorruptMessage"]
  ]
  for (const [name, second, reason] of refusals) {
    it(`refuses ${name} (${reason})`, () => {
      const verifier = new MessageVerifier(target, 1n, undefined)
      assert.isTrue(Array.isArray(verifier.accept(message(1, 1n, 10))))
      const result = verifier.accept(second)
      assert.isFalse(Array.isArray(result))
      if (!Array.isArray(result)) assert.strictEqual(result.reason, reason)
    })
  }

  it("the binary search finds the last message starting at or before fromSeq, as a scan would", () =>
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ gapBefore: fc.integer({ min: 1, max: 4 }), events: fc.integer({ min: 1, max: 5 }) }),
          {
            minLength: 1,
            maxLength: 40
          }
        ),
        fc.integer({ min: 0, max: 250 }),
        (layout, fromSeqNumber) => {
          // Messages of one subject at increasing stream seqs (other subjects' messages between).
          const messages: Array<{ streamSeq: number; firstSeq: bigint }> = []
          let streamSeq = 0
          let nextSeq = 1n
          for (const { gapBefore, events } of layout) {
            streamSeq += gapBefore
            messages.push({ streamSeq, firstSeq: nextSeq })
            nextSeq += BigInt(events)
          }
          const fromSeq = BigInt(fromSeqNumber)
          const probe = (at: number) => Effect.sync(() => probed(messages, at))
          const expected = messages.filter((m) => m.firstSeq <= fromSeq).at(-1)?.streamSeq
          const found = Effect.runSync(lastMessageStartingAtOrBefore(probe, fromSeq, 1, streamSeq))
          assert.strictEqual(found, expected)
        }
      )
    ))
})

/** The first message at or after stream seq `at`, as the server's `next_by_subj` answers. */
const probed = (messages: ReadonlyArray<{ streamSeq: number; firstSeq: bigint }>, at: number) => {
  const found = messages.find((m) => m.streamSeq >= at)
  if (found === undefined) return undefined
  const body = { firstSeq: found.firstSeq, eventCount: 1, lastSeq: found.firstSeq, records: new Uint8Array() }
  return { streamSeq: found.streamSeq, body }
}

describe("retries", () => {
  it("the pause doubles from the minimum up to the maximum", () => {
    const options = { retryMinDelayMillis: 100, retryMaxDelayMillis: 1000 } as Parameters<
      typeof retryDelayMillis
    >[0]
    assert.deepStrictEqual(
      [0, 1, 2, 3, 4, 50].map((attempt) => retryDelayMillis(options, attempt)),
      [100, 200, 400, 800, 1000, 1000]
    )
  })
})
