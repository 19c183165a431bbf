#!/usr/bin/env node
// The `tidal-wal` command. In a checkout it runs the TypeScript source directly (Node >= 22.18
// strips types); installed as a dependency, where Node will not strip types under node_modules,
// it runs the compiled dist/ that `npm pack` builds.
import { fileURLToPath } from "node:url"

const here = fileURLToPath(import.meta.url)
const entry = here.includes("/node_modules/") ? "../dist/cli/main.js" : "../src/cli/main.ts"
const { main } = await import(new URL(entry, import.meta.url).href)
const { NodeRuntime, NodeServices } = await import("@effect/platform-node")
const { Effect } = await import("effect")
main(process.argv.slice(2)).pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain)
