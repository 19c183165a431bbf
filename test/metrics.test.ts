/**
 * Metrics (issue: command line, demo, metrics and tracing): after N appends the counters equal N,
 * and the batch histogram counts exactly the batches written.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Metric } from "effect"
import { WalHandle } from "../src/index.ts"
import { walMetricsFor } from "../src/internal/metrics.ts"
import { eventFor, eventsFor, nodeLayer, tempDir } from "./support/wal.ts"

describe("metrics", () => {
  it.live("counters equal the appends, and the batch histogram counts the batches written", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const [wal] = yield* WalHandle.open({
        dir,
        batchMaxEvents: 10,
        groupCommit: "eager",
        segmentMaxBytes: 4096
      })
      yield* Effect.forEach(eventsFor(1000), (e) => wal.append(e), { concurrency: 64, discard: true })
      yield* wal.appendAll(eventsFor(50, 1000))
      assert.strictEqual(yield* wal.append(eventFor(3)), 0n)
      const segments = yield* wal.listSegments
      const batchesWritten = segments.reduce((n, s) => n + s.batchCount, 0)
      const m = walMetricsFor(wal.dir)
      assert.strictEqual((yield* Metric.value(m.eventsAppended)).count, 1050)
      assert.strictEqual((yield* Metric.value(m.duplicates)).count, 1)
      assert.strictEqual((yield* Metric.value(m.batches)).count, batchesWritten)
      const batchEvents = yield* Metric.value(m.batchEvents)
      assert.strictEqual(batchEvents.count, batchesWritten)
      assert.strictEqual(batchEvents.sum, 1050)
      assert.strictEqual((yield* Metric.value(m.syncMillis)).count, batchesWritten)
      // Latency samples: one append in 16 of the 1001 (calls 0, 16, … 992: 63), and each of the
      // appendAll's 5 chunks of batchMaxEvents.
      assert.strictEqual((yield* Metric.value(m.appendLatencyMillis)).count, 63 + 5)
      assert.strictEqual((yield* Metric.value(m.segments)).value, segments.length)
      assert.isAbove((yield* Metric.value(m.segments)).value, 1)
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map()), Effect.scoped, Effect.provide(nodeLayer))
  )
})

describe("OpenTelemetry export (the README's example)", () => {
  it.live("examples/otlp.ts delivers the WAL's metrics and spans to an OTLP endpoint", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      const script = fileURLToPath(new URL("../examples/otlp.ts", import.meta.url))
      const stdout = yield* Effect.callback<string>((resume) => {
        execFile(process.execPath, [script], { cwd }, (error, out, err) =>
          resume(error === null ? Effect.succeed(out) : Effect.die(new Error(`${error.message}\n${err}`)))
        )
      })
      assert.include(stdout, "tidal_wal_events_appended_total")
      assert.include(stdout, "tidal_wal_sync_millis")
      assert.include(stdout, "tidal-wal.batch")
      assert.include(stdout, "tidal-wal.open")
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})
