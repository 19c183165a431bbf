/**
 * Does shipping to JetStream keep up with the WAL? `appendAll` of 100 events from 100 callers,
 * measured alone and with a `JetStreamShipper` on a single local nats-server (started here on a
 * free port with a temporary store, like the tests), in alternating rounds so that drift moves
 * both sides alike.
 *
 * Reports, per case: events/s appended; events/s shipped (acknowledged by JetStream within the
 * same window); the ratio of shipped to appended; the ratio of appends with the shipper to appends
 * alone (what shipping costs the WAL on this CPU); the lag of each `appendAll` call — from its
 * acknowledgement by the WAL to JetStream's acknowledgement of its last event — p50, p99 and max;
 * and the mean events per message. Two shipper cases: the default (messages of up to 256 KiB,
 * coalescing whatever is durable), and one WAL batch per message (maxMessageBytes = one batch of
 * 100 events).
 *
 *   node bench/jetstream.bench.ts            # JETSTREAM_BENCH_SECONDS=5, JETSTREAM_BENCH_ROUNDS=2
 *
 * Needs nats-server on PATH (`bash .ci/install-nats-server`).
 */
import { readFileSync } from "node:fs"
import { NodeServices } from "@effect/platform-node"
import { Effect, FileSystem, Metric } from "effect"
import { WalHandle, type WalHandleShape } from "../src/index.ts"
import { ensureStream, JetStreamShipper, type JetStreamShipperShape } from "../src/jetstream/index.ts"
import { shipperMetricsFor } from "../src/jetstream/shipperMetrics.ts"
import { type NatsNode, natsServer } from "../test/support/nats.ts"
import { makeEventPool } from "./eventPool.ts"

const SECONDS = Number(process.env.JETSTREAM_BENCH_SECONDS ?? 5)
const ROUNDS = Number(process.env.JETSTREAM_BENCH_ROUNDS ?? 2)
const CALLERS = 100
const EVENTS_PER_CALL = 100
/** One WAL batch of 100 events: the 64-byte header and 100 records of 21 bytes. */
const ONE_BATCH_BYTES = 64 + EVENTS_PER_CALL * 21

interface Case {
  readonly label: string
  /** `undefined`: no shipper. */
  readonly maxMessageBytes: number | undefined | "default"
}

const cases: ReadonlyArray<Case> = [
  { label: "WAL alone", maxMessageBytes: undefined },
  { label: "WAL + shipper (default: up to 256 KiB a message)", maxMessageBytes: "default" },
  { label: "WAL + shipper (one WAL batch a message)", maxMessageBytes: ONE_BATCH_BYTES }
]

interface Result {
  readonly label: string
  readonly appendedPerSecond: number
  /** CPU per appended event over the measured window: this process, and the nats-server. */
  readonly nodeCpuMicrosPerEvent: number
  readonly serverCpuMicrosPerEvent: number
  readonly shippedPerSecond: number | undefined
  readonly lagMillis: ReadonlyArray<number>
  readonly eventsPerMessage: number | undefined
  readonly catchUpMillis: number | undefined
}

const pool = makeEventPool()
let nextEvent = 0

/**
 * `CALLERS` fibers calling `appendAll` until the deadline. `afterAck` runs on each call's last
 * seq and acknowledgement time (forked, so the caller goes on at once).
 */
const appendUntil = (
  wal: WalHandleShape,
  deadline: number,
  afterAck: ((lastSeq: bigint, ackedAt: number) => Effect.Effect<void>) | undefined
) =>
  Effect.forEach(
    Array.from({ length: CALLERS }, (_, caller) => caller),
    () =>
      Effect.whileLoop({
        while: () => performance.now() < deadline,
        body: () =>
          Effect.suspend(() => {
            const events = Array.from({ length: EVENTS_PER_CALL }, () => pool.signalEvent(nextEvent++))
            const appended = wal.appendAll(events)
            if (afterAck === undefined) return Effect.asVoid(appended)
            return Effect.flatMap(appended, (seqs) => {
              const lastSeq = seqs.reduce((a, b) => (b > a ? b : a), 0n)
              return Effect.asVoid(Effect.forkDetach(afterAck(lastSeq, performance.now())))
            })
          }),
        step: () => {}
      }),
    { concurrency: "unbounded", discard: true }
  )

/** Each call's lag: from its acknowledgement by the WAL until JetStream acknowledged its last event. */
const lagOf = (shipper: JetStreamShipperShape, lags: Array<number>) => (lastSeq: bigint, ackedAt: number) =>
  Effect.flatMap(shipper.awaitShipped(lastSeq), () =>
    Effect.sync(() => lags.push(performance.now() - ackedAt))
  ).pipe(Effect.ignore)

/** User + system CPU of a process from /proc, in microseconds (Linux; 0 elsewhere). */
const processCpuMicros = (pid: number | undefined): number => {
  if (pid === undefined) return 0
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? []
    // utime and stime are fields 14 and 15 of stat(5), here at 11 and 12; clock ticks of 10 ms.
    return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) * 10_000
  } catch {
    return 0
  }
}

interface CpuMark {
  readonly node: NodeJS.CpuUsage
  readonly serverMicros: number
}
const cpuMark = (node: NatsNode): CpuMark => ({
  node: process.cpuUsage(),
  serverMicros: processCpuMicros(node.pid())
})
const cpuSince = (node: NatsNode, mark: CpuMark, events: number) => {
  const used = process.cpuUsage(mark.node)
  return {
    nodeCpuMicrosPerEvent: (used.user + used.system) / events,
    serverCpuMicrosPerEvent: (processCpuMicros(node.pid()) - mark.serverMicros) / events
  }
}

const runCase = (node: NatsNode, c: Case, round: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "tidal-wal-jsbench-" })
      const [wal] = yield* WalHandle.open({ dir, segmentMaxBytes: 64 * 1024 * 1024 })
      // Warm the WAL (and the JIT) before anything is measured.
      yield* appendUntil(wal, performance.now() + 500, undefined)
      if (c.maxMessageBytes === undefined) {
        const before = yield* wal.nextSeq
        const mark = cpuMark(node)
        const started = performance.now()
        yield* appendUntil(wal, started + SECONDS * 1000, undefined)
        const elapsedSeconds = (performance.now() - started) / 1000
        const appended = Number((yield* wal.nextSeq) - before)
        const result: Result = {
          label: c.label,
          appendedPerSecond: appended / elapsedSeconds,
          ...cpuSince(node, mark, appended),
          shippedPerSecond: undefined,
          lagMillis: [],
          eventsPerMessage: undefined,
          catchUpMillis: undefined
        }
        return result
      }
      const stream = `JSBENCH${round}X${cases.indexOf(c)}`
      yield* ensureStream({ servers: node.url, stream, subjects: [`${stream.toLowerCase()}.>`] })
      const shipper = yield* JetStreamShipper.make(wal, {
        servers: node.url,
        stream,
        subject: (walId) => `${stream.toLowerCase()}.${walId}`,
        ...(c.maxMessageBytes === "default" ? {} : { maxMessageBytes: c.maxMessageBytes })
      })
      yield* shipper.awaitShipped((yield* wal.nextSeq) - 1n)
      const lags: Array<number> = []
      const metrics = shipperMetricsFor(dir, shipper.subject)
      const messagesBefore = (yield* Metric.value(metrics.messages)).count
      const appendedBefore = yield* wal.nextSeq
      const shippedBefore = yield* shipper.shippedSeq
      const mark = cpuMark(node)
      const started = performance.now()
      yield* appendUntil(wal, started + SECONDS * 1000, lagOf(shipper, lags))
      const elapsedSeconds = (performance.now() - started) / 1000
      const appended = Number((yield* wal.nextSeq) - appendedBefore)
      const cpu = cpuSince(node, mark, appended)
      const shipped = Number((yield* shipper.shippedSeq) - shippedBefore)
      const stoppedAt = performance.now()
      yield* shipper.awaitShipped((yield* wal.nextSeq) - 1n)
      const catchUpMillis = performance.now() - stoppedAt
      // Let the forked lag fibers of the last calls record.
      yield* Effect.sleep("20 millis")
      const messages = (yield* Metric.value(metrics.messages)).count - messagesBefore
      const result: Result = {
        label: c.label,
        appendedPerSecond: appended / elapsedSeconds,
        ...cpu,
        shippedPerSecond: shipped / elapsedSeconds,
        lagMillis: lags,
        eventsPerMessage:
          messages > 0 ? Number((yield* shipper.shippedSeq) - shippedBefore) / messages : undefined,
        catchUpMillis
      }
      return result
    })
  )

const percentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN)

const median = (values: ReadonlyArray<number>): number =>
  percentile(
    [...values].sort((a, b) => a - b),
    0.5
  )

/** One table row: medians over rounds; lag percentiles over every call of every round. */
const reportRow = (label: string, results: ReadonlyArray<Result>, aloneEventsPerSecond: number): string => {
  const medianOf = (pick: (r: Result) => number | undefined): number | undefined => {
    const values = results.map(pick).filter((v): v is number => v !== undefined)
    return values.length === 0 ? undefined : median(values)
  }
  const cell = (value: number | undefined, digits: number) =>
    value === undefined || Number.isNaN(value) ? "–" : value.toFixed(digits)
  const appended = medianOf((r) => r.appendedPerSecond) ?? Number.NaN
  const shipped = medianOf((r) => r.shippedPerSecond)
  const lags = results.flatMap((r) => r.lagMillis).sort((a, b) => a - b)
  const lagAt = (p: number) => (lags.length === 0 ? undefined : percentile(lags, p))
  const cells = [
    label,
    cell(appended, 0),
    cell(shipped, 0),
    cell(shipped === undefined ? undefined : shipped / appended, 3),
    cell(appended / aloneEventsPerSecond, 3),
    cell(lagAt(0.5), 1),
    cell(lagAt(0.99), 1),
    cell(lags.at(-1), 1),
    cell(
      medianOf((r) => r.eventsPerMessage),
      0
    ),
    cell(
      medianOf((r) => r.catchUpMillis),
      1
    ),
    cell(
      medianOf((r) => r.nodeCpuMicrosPerEvent),
      2
    ),
    cell(
      medianOf((r) => r.serverCpuMicrosPerEvent),
      2
    )
  ]
  return `| ${cells.join(" | ")} |`
}

const program = Effect.gen(function* () {
  const node = yield* natsServer
  const byCase = new Map<string, Array<Result>>()
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 === 1 ? cases : [...cases].reverse()
    for (const c of order) {
      process.stderr.write(`round ${round}: ${c.label}\n`)
      const result = yield* runCase(node, c, round)
      byCase.set(c.label, [...(byCase.get(c.label) ?? []), result])
    }
  }
  const alone = median((byCase.get("WAL alone") ?? []).map((r) => r.appendedPerSecond))
  console.log(
    `## Shipping to JetStream: appendAll ×${EVENTS_PER_CALL} from ${CALLERS} callers, one local nats-server`
  )
  console.log("")
  console.log(
    `Node ${process.version}, ${ROUNDS} alternating rounds of ${SECONDS} s; medians over rounds (lag: all calls pooled).`
  )
  console.log("")
  console.log(
    "| case | appended ev/s | shipped ev/s | shipped ÷ appended | appends ÷ WAL alone | lag p50 ms | lag p99 ms | lag max ms | ev/message | catch-up ms | CPU µs/ev node | CPU µs/ev nats-server |"
  )
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
  for (const c of cases) console.log(reportRow(c.label, byCase.get(c.label) ?? [], alone))
  console.log("")
  console.log("Reproduce: `node bench/jetstream.bench.ts` (JETSTREAM_BENCH_SECONDS, JETSTREAM_BENCH_ROUNDS).")
}).pipe(Effect.scoped, Effect.provide(NodeServices.layer))

await Effect.runPromise(program)
