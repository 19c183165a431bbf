/**
 * The ingest service's entry point: parses the flags, builds the application from layers and
 * runs it until SIGINT/SIGTERM (or until the materializer stops).
 *
 *   node examples/ingest-service/main.ts --dir ./ingest-data --port 8080
 *
 * Layers, each built after what it needs and released before it:
 *   NodeServices -> IngestConfig -> WalHandle.layer -> Materializer.layer
 *     -> NodeHttpServer.layer -> HttpRouter.serve(routes) -> the "listening on" line
 * So the snapshot is loaded before the port opens; on shutdown the server stops taking requests,
 * then the materializer takes its last snapshot and checkpoint, then the WAL drains and closes.
 */
import { createServer } from "node:http"
import { NodeHttpServer, NodeRuntime, NodeServices } from "@effect/platform-node"
import { ByteSize, Console, Duration, Effect, Layer, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { HttpIncomingMessage, HttpRouter, HttpServer } from "effect/http"
import { WalHandle } from "../../src/index.ts"
import { IngestConfig, type IngestSettings } from "./config.ts"
import { routes } from "./http.ts"
import { Materializer } from "./materializer.ts"

/** 4 MiB: some 40,000 events of about 100 bytes of JSON each. */
const MAX_BODY_BYTES = 4 * 1024 * 1024

const makeApp = (settings: IngestSettings) => {
  const wal = WalHandle.layer({
    dir: settings.walDir,
    // The materializer tails from its snapshot; holding the replay in memory would be waste.
    replay: "none",
    segmentMaxBytes: settings.segmentMaxBytes,
    dedupWindow: Duration.millis(settings.dedupWindowMillis)
  })
  const server = NodeHttpServer.layer(() => createServer(), { host: settings.host, port: settings.port })
  const http = HttpRouter.serve(routes, { disableLogger: true, disableListenLog: true }).pipe(
    // A larger body is refused with 413 as soon as it passes the limit, not buffered whole.
    Layer.provide(Layer.succeed(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(MAX_BODY_BYTES)))
  )
  // Printed once the routes are installed: scripts (and the crash test) wait for this line.
  const announce = Layer.effectDiscard(
    HttpServer.addressFormattedWith((url) => Console.log(`ingest-service listening on ${url}`))
  )
  return announce.pipe(
    Layer.provide(http),
    Layer.provide(server),
    Layer.provideMerge(Materializer.layer),
    Layer.provide(wal),
    Layer.provide(Layer.succeed(IngestConfig, settings)),
    Layer.provide(NodeServices.layer)
  )
}

/** Runs the service until interrupted; fails if the materializer stops. */
const serve = (settings: IngestSettings) =>
  Effect.gen(function* () {
    const materializer = yield* Materializer
    return yield* materializer.failure
  }).pipe(Effect.provide(makeApp(settings)))

const durationFlag = (name: string, minimumMillis: number) =>
  Flag.String(name).pipe(
    Flag.filterMap(
      (text) =>
        Option.filter(
          Option.map(Duration.fromInput(text as Duration.Input), Duration.toMillis),
          (millis) => Number.isFinite(millis) && millis >= minimumMillis
        ),
      (text) => `a duration of at least ${minimumMillis} ms such as "1 hour", got "${text}"`
    )
  )

const command = Command.make(
  "ingest-service",
  {
    dir: Flag.String("dir").pipe(
      Flag.withDescription("data directory: the WAL in <dir>/wal, snapshot beside it")
    ),
    host: Flag.String("host").pipe(
      Flag.withDescription("address to listen on (default: 127.0.0.1)"),
      Flag.withDefault("127.0.0.1")
    ),
    port: Flag.Int("port").pipe(
      Flag.withDescription("port; 0 picks a free one (default: 8080)"),
      Flag.withDefault(8080)
    ),
    halfLife: durationFlag("half-life", 1).pipe(
      Flag.withDescription("score half-life, in event time (default: 1 hour)"),
      Flag.withDefault(3_600_000)
    ),
    snapshotEvery: durationFlag("snapshot-every", 1).pipe(
      Flag.withDescription("snapshot, checkpoint and truncate this often (default: 1 second)"),
      Flag.withDefault(1000)
    ),
    segmentMaxBytes: Flag.Int("segment-max-bytes").pipe(
      Flag.withDescription("WAL segment size (default: 16 MiB)"),
      Flag.withDefault(16 * 1024 * 1024)
    ),
    dedupWindow: durationFlag("dedup-window", 1).pipe(
      Flag.withDescription("WAL dedup window (default: 30 seconds)"),
      Flag.withDefault(30_000)
    ),
    retentionLag: durationFlag("retention-lag", 0).pipe(
      Flag.withDescription(
        "delete WAL segments only once checkpointed this long ago (default: the dedup window)"
      ),
      Flag.optional
    )
  },
  (flags) =>
    serve({
      dataDir: flags.dir,
      walDir: `${flags.dir}/wal`,
      snapshotFile: `${flags.dir}/aggregates.json`,
      halfLifeNanos: BigInt(Math.round(flags.halfLife)) * 1_000_000n,
      snapshotIntervalMillis: flags.snapshotEvery,
      segmentMaxBytes: flags.segmentMaxBytes,
      dedupWindowMillis: flags.dedupWindow,
      retentionLagMillis: Option.getOrElse(flags.retentionLag, () => flags.dedupWindow),
      host: flags.host,
      port: flags.port
    })
).pipe(Command.withDescription("Ingest signal events over HTTP into tidal-wal and materialize aggregates"))

command.pipe(Command.run({ version: "0.1.0" }), Effect.provide(NodeServices.layer), NodeRuntime.runMain)
