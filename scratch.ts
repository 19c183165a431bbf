import { mkdtempSync } from "node:fs"
import { NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import { runRecovery } from "./bench/recovery.bench.ts"

for (let i = 0; i < 2; i++) {
  const base = mkdtempSync("/work/main/rb-")
  const r = await Effect.runPromise(
    runRecovery(base, 64 * 1024 * 1024).pipe(Effect.provide(NodeServices.layer))
  )
  console.log(r.openMillis.toFixed(1), r.rawMillis.toFixed(1), r.ratio.toFixed(2))
}
