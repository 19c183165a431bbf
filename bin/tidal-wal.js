#!/usr/bin/env node
// The `tidal-wal` command: runs the compiled command line in dist/, which the package ships
// (`npm pack` builds it). A checkout that was never built has no dist/; there, and only there,
// the TypeScript source runs instead (Node >= 22.18 strips its types, which it refuses to do for
// an installed dependency) — `npm start` and the tests run `node src/cli/main.ts` directly.
import { existsSync } from "node:fs"
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Effect } from "effect"

const compiled = new URL("../dist/cli/main.js", import.meta.url)
const entry = existsSync(compiled) ? compiled : new URL("../src/cli/main.ts", import.meta.url)
const { main } = await import(entry.href)
main(process.argv.slice(2)).pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain)
