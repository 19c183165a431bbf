/**
 * Tracing: each `tidal-wal.batch` span is a trace of its own (not a child of `tidal-wal.open`,
 * which ended long before), linked to the span of every caller whose append it made durable.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Tracer } from "effect"
import { WalHandle } from "../../src/index.ts"
import { eventFor, nodeLayer, tempDir } from "../support/wal.ts"

const recordingTracer = () => {
  const spans: Array<Tracer.NativeSpan> = []
  const tracer = Tracer.make({
    span(options) {
      const span = new Tracer.NativeSpan(options)
      spans.push(span)
      return span
    }
  })
  return { spans, tracer }
}

describe("tracing", () => {
  it.live("a batch's span is a root linked to each caller's span", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const { spans, tracer } = recordingTracer()
      yield* Effect.scoped(
        Effect.gen(function* () {
          const [wal] = yield* WalHandle.open({ dir, batchMaxWait: "20 millis" })
          // Three callers, each in its own span, whose appends share one batch (the 20 ms window).
          yield* Effect.all(
            [1, 2, 3].map((i) =>
              i === 3
                ? wal.appendAll([eventFor(i), eventFor(i + 10)]).pipe(Effect.withSpan(`caller-${i}`))
                : wal.append(eventFor(i)).pipe(Effect.withSpan(`caller-${i}`))
            ),
            { concurrency: "unbounded" }
          )
        })
      ).pipe(Effect.withTracer(tracer))
      const batches = spans.filter((span) => span.name === "tidal-wal.batch")
      const callers = spans.filter((span) => span.name.startsWith("caller-"))
      assert.strictEqual(callers.length, 3)
      assert.isAbove(batches.length, 0)
      for (const batch of batches) assert.isTrue(Option.isNone(batch.parent), "a batch span has no parent")
      const linked = new Set(batches.flatMap((batch) => batch.links.map((link) => link.span)))
      for (const caller of callers) assert.isTrue(linked.has(caller), `${caller.name} is linked from a batch`)
      assert.strictEqual(
        batches.reduce((sum, batch) => sum + batch.links.length, 0),
        3,
        "one link per caller, not per event"
      )
    }).pipe(Effect.provide(nodeLayer))
  )
})
