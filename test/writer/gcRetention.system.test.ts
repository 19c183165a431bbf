/**
 * The writer must not keep what it has written alive: a request, once answered, is garbage the
 * next scavenge can collect. When something dead in old space still points at the writer's
 * young objects — a generator per group did — every request since the last full GC, with its
 * caller's event, Exit and resume closure, is copied by each scavenge and then promoted: several
 * MB a scavenge at 1000 appenders, and scavenges of 15–40 ms that every caller in flight waits
 * through. This runs the writer in a child under `--trace-gc-nvp` and bounds what its scavenges
 * promote.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"

const childScript = fileURLToPath(new URL("../support/writerGcChild.ts", import.meta.url))

/** Scavenges while the heap grows to its working size are left out. */
const WARMUP_SCAVENGES = 6
/** At 1000 appenders: about 0.7 MB with nothing retained, 3.4 MB and more with it. */
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
        const promoted = promotedPerScavenge(yield* Effect.promise(runChild)).slice(WARMUP_SCAVENGES)
        assert.isAtLeast(promoted.length, 5, "too few scavenges to judge")
        assert.isFalse(promoted.some(Number.isNaN), "a scavenge line without promoted=")
        const sorted = [...promoted].sort((a, b) => a - b)
        const median = sorted[Math.floor(sorted.length / 2)] ?? 0
        assert.isBelow(median, MAX_MEDIAN_PROMOTED_BYTES, `promoted per scavenge: ${promoted.join(", ")}`)
      }),
    60_000
  )
})
