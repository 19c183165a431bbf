/**
 * Exporting tidal-wal's metrics and spans over OTLP, runnable as it is:
 *
 *   node examples/otlp.ts                # prints what a collector on 127.0.0.1 received
 *   OTLP_URL=http://collector:4318 node examples/otlp.ts   # sends to your collector instead
 *
 * Without OTLP_URL it starts a minimal stand-in collector on a loopback port that prints the
 * metric names and span names it receives, so the example needs nothing but this repository.
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { NodeHttpClient, NodeServices } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { Otlp, OtlpSerialization } from "effect/observability"
import { SignalType, WalHandle } from "../src/index.ts"

const received = { metrics: new Set<string>(), spans: new Set<string>() }

/** Collects metric and span names from OTLP/JSON requests. */
const standInCollector = () =>
  new Promise<{ readonly url: string; readonly close: () => void }>((resolve) => {
    const server = createServer((request, response) => {
      let body = ""
      request.on("data", (chunk) => {
        body += chunk
      })
      request.on("end", () => {
        for (const match of body.matchAll(/"name":"([^"]+)"/g)) {
          const name = match[1] ?? ""
          if (request.url?.endsWith("/v1/metrics")) received.metrics.add(name)
          if (request.url?.endsWith("/v1/traces")) received.spans.add(name)
        }
        response.writeHead(200, { "content-type": "application/json" }).end("{}")
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resolve({ url: `http://127.0.0.1:${port}`, close: () => server.close() })
    })
  })

const collector = process.env.OTLP_URL === undefined ? await standInCollector() : undefined
const baseUrl = process.env.OTLP_URL ?? collector?.url ?? ""

const ObservabilityLive = Otlp.layer({
  baseUrl,
  resource: { serviceName: "tidal-wal-example" },
  metricsExportInterval: "1 second",
  tracerExportInterval: "500 millis"
}).pipe(Layer.provide(OtlpSerialization.layerJson), Layer.provide(NodeHttpClient.layerUndici))

const program = Effect.gen(function* () {
  const wal = yield* WalHandle
  for (let i = 0; i < 1000; i++) {
    yield* wal.append({
      entityId: BigInt(i),
      signalType: SignalType.view,
      weight: 1,
      timestamp: BigInt(Date.now()) * 1_000_000n
    })
  }
  yield* Effect.sleep("1500 millis") // let one metrics export interval pass
})

await program.pipe(
  Effect.provide(WalHandle.layer({ dir: ".tidal-wal-otlp-example", groupCommit: "eager" })),
  Effect.provide(ObservabilityLive),
  Effect.provide(NodeServices.layer),
  Effect.runPromise
)

if (collector !== undefined) {
  console.log(
    `metrics received: ${[...received.metrics]
      .filter((n) => n.startsWith("tidal_wal"))
      .sort()
      .join(", ")}`
  )
  console.log(
    `spans received: ${[...received.spans]
      .filter((n) => n.startsWith("tidal-wal"))
      .sort()
      .join(", ")}`
  )
  collector.close()
}
