/**
 * Opens a 64 MiB log several times, for CPU profiles of recovery:
 * `npx node --cpu-prof bench/profile-open.ts [OPENS]`.
 */
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { NodeServices } from "@effect/platform-node"
import { Effect, FileSystem } from "effect"
import { WalHandle } from "../src/index.ts"
import { buildLog } from "./recovery.bench.ts"

const opens = Number(process.argv[2] ?? 8)
const run = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const base = yield* fs.makeTempDirectoryScoped({ prefix: "tidal-wal-profile-", directory: process.cwd() })
  const dir = join(base, "log")
  mkdirSync(dir)
  const events = buildLog(dir, 64 * 1024 * 1024)
  for (let i = 0; i < opens; i++) {
    const startMillis = performance.now()
    const replayed = yield* Effect.scoped(
      Effect.map(WalHandle.open({ dir }), ([, replayed]) => replayed.length)
    )
    console.log(
      `open ${i + 1}: ${(performance.now() - startMillis).toFixed(1)} ms, ${replayed} of ${events} events`
    )
  }
}).pipe(Effect.scoped, Effect.provide(NodeServices.layer))

await Effect.runPromise(run)
