/**
 * The writer must not keep what it has written alive: a request, once answered, is garbage the
 * next scavenge can collect. With a generator per group in the writer loop it was not: each
 * group's array outlived the group until the next full GC, so every request since the last one,
 * with its caller's event, Exit and resume closure, was copied by each scavenge and promoted —
 * 3.8 MB and more a scavenge here, against about 0.1 MB without (medians). This runs the writer
 * in a child under `--trace-gc-nvp` and bounds the median promoted per scavenge.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"

const childScript = fileURLToPath(new URL("../support/writerGcChild.ts", import.meta.url))

/** Measured once the heap has its working size: the later half of the scavenges. */
const steadyState = (promoted: ReadonlyArray<number>): ReadonlyArray<number> =>
  promoted.slice(Math.floor(promoted.length / 2))
/** About 0.1 MB with nothing retained; 3.8 MB and more with the groups retained. */
const MAX_MEDIAN_PROMOTED_BYTES = 1_500_000

const runChild = (): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--trace-gc-nvp", childScript], {
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk
    })
    child.on("error", reject)
    child.on("exit", (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`the child exited with ${code}: ${stderr}`))
    )
  })

/** The bytes each scavenge promoted, in order. */
const promotedPerScavenge = (trace: string): Array<number> =>
  trace
    .split("\n")
    .filter((line) => line.includes(" gc=s "))
    .map((line) => Number(/ promoted=(\d+)/.exec(line)?.[1] ?? Number.NaN))

describe("writer: garbage collection", () => {
  it.live(
    "answered requests die young: the median scavenge promotes under 1.5 MB at 1000 appenders",
    () =>
      Effect.gen(function* () {
        const all = promotedPerScavenge(yield* Effect.promise(runChild))
        // V8 prints its minor GCs as `gc=s` (scavenges); one using another young-generation
        // collector would print none, and this test would have to learn its name.
        const promoted = steadyState(all)
        assert.isAtLeast(promoted.length, 5, `too few scavenges to judge: ${all.length}`)
        assert.isFalse(promoted.some(Number.isNaN), "a scavenge line without promoted=")
        const sorted = [...promoted].sort((a, b) => a - b)
        const median = sorted[Math.floor(sorted.length / 2)] ?? 0
        assert.isBelow(median, MAX_MEDIAN_PROMOTED_BYTES, `promoted per scavenge: ${promoted.join(", ")}`)
      }),
    60_000
  )
})
