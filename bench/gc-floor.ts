/**
 * The GC floor of the closed-loop harness without the WAL: `node bench/gc-floor.ts [WAIT_MS]`.
 *
 * 1000 fibers loop exactly like the bench's appenders (an event with bigints, a latency sample, an
 * `Effect.callback` per call), but a stub resumes them in batches of 100 once they have waited
 * `WAIT_MS` (default 2.4, the WAL's p50 at 1000 appenders). What GC share this shows is the
 * callers' own, which the WAL's "append, 1000 appenders" row includes. The JS thread's CPU per
 * call is the floor of any Effect `append` driven this way: the caller's fiber suspending and
 * resuming, with no WAL behind it.
 */
import { PerformanceObserver } from "node:perf_hooks"
import { Effect, Exit } from "effect"

const waitMillis = Number(process.argv[2] ?? 2.4)
const appenders = 1000
const seconds = 4

interface Waiting {
  readonly sinceMillis: number
  readonly resume: (exit: Exit.Exit<bigint>) => void
}

let gcMillis = 0
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMillis += entry.duration
}).observe({ entryTypes: ["gc"] })

const waiting: Array<Waiting> = []
let head = 0
let seq = 0n
let running = true
const pump = (): void => {
  const now = performance.now()
  while (head < waiting.length && now - (waiting[head]?.sinceMillis ?? now) >= waitMillis) {
    const end = Math.min(head + 100, waiting.length)
    for (let i = head; i < end; i++) waiting[i]?.resume(Exit.succeed(++seq))
    head = end
  }
  // Resumed waiters are dropped soon: kept longer, they would be promoted and their GC cost
  // counted as the callers'.
  if (head > 1_000) {
    waiting.splice(0, head)
    head = 0
  }
  if (running || head < waiting.length) setImmediate(pump)
}
setImmediate(pump)

let counter = 0
let acked = 0
const base = 1_700_000_000_000_000_000n
const latencies = new Float64Array(1 << 22)
let latencyCount = 0
const append = (event: object) =>
  Effect.callback<bigint>((resume) => {
    if (event !== undefined) waiting.push({ sinceMillis: performance.now(), resume })
  })
const nextEvent = () => {
  const i = counter++
  return { entityId: BigInt(i), signalType: i & 3, weight: 1, timestamp: base + BigInt(i) }
}
const one = Effect.suspend(() => {
  const startMillis = performance.now()
  return Effect.map(append(nextEvent()), () => {
    latencies[latencyCount++ & (latencies.length - 1)] = performance.now() - startMillis
    acked++
  })
})

setTimeout(() => {
  running = false
}, seconds * 1000)
const startMillis = performance.now()
const cpuBefore = process.threadCpuUsage()
gcMillis = 0
await Effect.runPromise(
  Effect.forEach(
    Array.from({ length: appenders }, (_, i) => i),
    () => Effect.whileLoop({ while: () => running, body: () => one, step: () => {} }),
    { concurrency: "unbounded", discard: true }
  )
)
const wallMillis = performance.now() - startMillis
const cpu = process.threadCpuUsage(cpuBefore)
console.log(
  `${appenders} fibers, resumed after ${waitMillis} ms: ${Math.round(acked / (wallMillis / 1000)).toLocaleString("en-US")} calls/s, ` +
    `JS thread ${((cpu.user + cpu.system) / acked).toFixed(2)} µs CPU a call, GC ${((100 * gcMillis) / wallMillis).toFixed(1)} % of wall time`
)
