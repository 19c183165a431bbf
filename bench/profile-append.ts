/**
 * One throughput run, for CPU profiles:
 * `npx node --cpu-prof bench/profile-append.ts [APPENDERS] [EVENTS_PER_CALL]`.
 */
import { NodeServices } from "@effect/platform-node"
import { Effect, FileSystem } from "effect"
import { measureThroughput } from "../src/cli/measure.ts"

const appenders = Number(process.argv[2] ?? 1000)
const eventsPerCall = Number(process.argv[3] ?? 1)
const run = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const base = yield* fs.makeTempDirectoryScoped({ prefix: "tidal-wal-profile-", directory: process.cwd() })
  const result = yield* Effect.scoped(
    measureThroughput({ config: { dir: `${base}/wal` }, appenders, eventsPerCall, seconds: 4 })
  )
  console.log(JSON.stringify(result))
}).pipe(Effect.scoped, Effect.provide(NodeServices.layer))

await Effect.runPromise(run)
