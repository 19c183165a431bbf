/**
 * System test of examples/ingest-service: the real service as a child process, killed with
 * SIGKILL at random moments, must never count an event twice or miss one.
 *
 * Each round starts the service on the same data directory, retries the events whose POST got
 * no answer, lets three posters send random batches (with deliberate duplicates) and SIGKILLs the
 * service after a random delay — while appending, applying, snapshotting, checkpointing or
 * truncating. Between rounds the WAL is read offline, so every event ever written is known even
 * after retention deleted its segment. At the end the service's aggregates (its last snapshot
 * plus what it applied after the restart, read over HTTP) must equal a fold of every event from
 * the WAL in sequence order; a restart with nothing new must serve the same; a SIGTERM must leave
 * a final snapshot of everything.
 *
 * The seed fixes the events, the batches and the kill delays; where a kill lands in the service's
 * work still depends on the machine's timing. INGEST_CRASH_SEED reruns a seed,
 * INGEST_CRASH_ROUNDS changes the number of kills (default 4).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import {
  type AggregateState,
  applyEvent,
  emptyAggregateState
} from "../../examples/ingest-service/aggregates.ts"
import { type SignalEvent, SignalType, WalReader } from "../../src/index.ts"
import {
  type IngestServiceProcess,
  startIngestService,
  stopIngestService
} from "../support/ingestServiceProcess.ts"
import {
  emptyLedger,
  eventKey,
  type Ledger,
  makeRandom,
  postUntil,
  retryInDoubt
} from "../support/ingestServiceWorkload.ts"

const SEED = Number(process.env.INGEST_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31))
const KILLS = Number(process.env.INGEST_CRASH_ROUNDS ?? 4)
const POSTERS = 3
const HALF_LIFE_NANOS = 3_600_000_000_000n

// Snapshot, checkpoint and truncate often, in small segments, so kills land in all of it.
const serviceArgs = (dataDir: string, snapshotEvery = "50 millis") => [
  "--dir",
  dataDir,
  "--half-life",
  "1 hour",
  "--snapshot-every",
  snapshotEvery,
  "--segment-max-bytes",
  "4096",
  // Longer than the test: every retry of a durable event must be recognised.
  "--dedup-window",
  "10 minutes",
  // Far below the window, so that retention runs within the test. Retries stay recognised: the
  // only events retried across a restart are those whose answer never came, written at most a
  // few milliseconds before the kill, and a segment goes only once checkpointed 200 ms ago.
  "--retention-lag",
  "200 millis"
]

const sleep = (millis: number) => new Promise<void>((resolve) => setTimeout(resolve, millis))

/** Every event in the WAL now, read offline. */
const readWal = (walDir: string): Promise<ReadonlyArray<SignalEvent & { readonly seq: bigint }>> =>
  Effect.runPromise(Stream.runCollect(WalReader.read(walDir)).pipe(Effect.provide(NodeServices.layer)))

/** Adds what the WAL holds to `seen`; an event already seen must not have changed. */
const absorbWal = async (walDir: string, seen: Map<bigint, SignalEvent>): Promise<bigint | undefined> => {
  const events = await readWal(walDir)
  for (const { seq, ...event } of events) {
    const before = seen.get(seq)
    if (before !== undefined) assert.strictEqual(eventKey(event), eventKey(before), `seq ${seq} changed`)
    seen.set(seq, event)
  }
  return events[0]?.seq
}

interface Status {
  readonly appliedSeq: string
  readonly snapshotSeq: string
  readonly lastSeq: string
}

interface ServedEntity {
  readonly entityId: string
  readonly eventCount: number
  readonly countsBySignal: Record<string, number>
  readonly score: number
  readonly scoreAtNanos: string
}

const getJson = async <A>(url: string): Promise<A> => {
  const response = await fetch(url)
  assert.strictEqual(response.status, 200, `GET ${url}`)
  return (await response.json()) as A
}

/** Waits until every event in the WAL is applied (and, if asked, in a durable snapshot). */
const waitUntilApplied = async (url: string, snapshotted = false) => {
  for (let attempt = 0; attempt < 400; attempt++) {
    const status = await getJson<Status>(`${url}/status`)
    if (status.appliedSeq === status.lastSeq && (!snapshotted || status.snapshotSeq === status.lastSeq)) {
      return { appliedSeq: BigInt(status.appliedSeq), snapshotSeq: BigInt(status.snapshotSeq) }
    }
    await sleep(25)
  }
  throw new Error("the materializer did not catch up within 10 s")
}

const signalName = (signalType: number): string =>
  Object.entries(SignalType).find(([, n]) => n === signalType)?.[0] ?? String(signalType)

/** Events 1..lastSeq from the WAL reads and the acknowledgements; none may be unknown. */
const allEvents = (lastSeq: bigint, fromWal: Map<bigint, SignalEvent>, ledger: Ledger) => {
  const events: Array<SignalEvent & { readonly seq: bigint }> = []
  for (let seq = 1n; seq <= lastSeq; seq++) {
    const event = fromWal.get(seq) ?? ledger.acked.get(seq)
    if (event === undefined) throw new Error(`seq ${seq} is in neither a WAL read nor an acknowledgement`)
    const acked = ledger.acked.get(seq)
    if (acked !== undefined) assert.strictEqual(eventKey(event), eventKey(acked), `acked seq ${seq}`)
    events.push({ seq, ...event })
  }
  return events
}

/** The served aggregates must be exactly the example's fold of every event, in seq order. */
const assertEqualsFold = (served: ReadonlyArray<ServedEntity>, expected: AggregateState) => {
  assert.strictEqual(served.length, expected.entities.size, "entity count")
  for (const entity of served) {
    const aggregate = expected.entities.get(BigInt(entity.entityId))
    assert.isDefined(aggregate, `entity ${entity.entityId}`)
    assert.deepStrictEqual(
      { ...entity, scoreAtNanos: BigInt(entity.scoreAtNanos) },
      { entityId: entity.entityId, ...aggregate },
      `entity ${entity.entityId}`
    )
  }
}

/**
 * The same numbers computed another way, so the fold itself is checked: counts by brute force,
 * and the score as sum(w * 2^-(T - t)/halfLife) at the entity's newest timestamp T.
 */
const assertEqualsDirectComputation = (
  served: ReadonlyArray<ServedEntity>,
  events: ReadonlyArray<SignalEvent>
) => {
  for (const entity of served) {
    const own = events.filter((e) => String(e.entityId) === entity.entityId)
    const counts: Record<string, number> = {}
    for (const e of own) counts[signalName(e.signalType)] = (counts[signalName(e.signalType)] ?? 0) + 1
    assert.deepStrictEqual(entity.countsBySignal, counts, `counts of ${entity.entityId}`)
    assert.strictEqual(entity.eventCount, own.length)
    const newest = own.reduce((t, e) => (e.timestamp > t ? e.timestamp : t), 0n)
    assert.strictEqual(entity.scoreAtNanos, String(newest))
    const score = own.reduce(
      (sum, e) => sum + e.weight * 2 ** -(Number(newest - e.timestamp) / Number(HALF_LIFE_NANOS)),
      0
    )
    const scale = own.reduce((sum, e) => sum + Math.abs(e.weight), 0)
    assert.approximately(entity.score, score, 1e-9 * scale + 1e-12, `score of ${entity.entityId}`)
  }
}

/** Every service started, so that a failing test leaves none running. */
const started: Array<IngestServiceProcess> = []

const start = async (dataDir: string, snapshotEvery?: string) => {
  const service = await startIngestService(serviceArgs(dataDir, snapshotEvery))
  started.push(service)
  return service
}

/** One life of the service: start, retry what is in doubt, post until a random SIGKILL. */
const crashRound = async (dataDir: string, ledger: Ledger, round: number): Promise<void> => {
  const service = await start(dataDir)
  ledger.ackedThisLife.length = 0
  await retryInDoubt(service.url, ledger, makeRandom(SEED + round))
  let stopped = false
  // Settled, not all: a poster failing early must not reject while the others still run.
  const posting = Promise.allSettled(
    Array.from({ length: POSTERS }, (_, i) =>
      postUntil(service.url, ledger, makeRandom(SEED * 31 + round * 7 + i), () => stopped)
    )
  )
  await sleep(makeRandom(SEED ^ (round * 0x9e3779b9)).int(1200))
  await stopIngestService(service, "SIGKILL")
  stopped = true
  for (const poster of await posting) if (poster.status === "rejected") throw poster.reason
}

const checkpointOnDisk = async (walDir: string): Promise<bigint> => {
  const scan = await Effect.runPromise(WalReader.scan(walDir).pipe(Effect.provide(NodeServices.layer)))
  return scan.checkpoint._tag === "Valid" ? scan.checkpoint.sequence : 0n
}

/** The `appliedSeq` of the snapshot file; 0 if there is none yet. */
const snapshotSeqOnDisk = async (dataDir: string): Promise<bigint> => {
  const text = await readFile(join(dataDir, "aggregates.json"), "utf8").catch(() => undefined)
  return text === undefined ? 0n : BigInt((JSON.parse(text) as { readonly appliedSeq: string }).appliedSeq)
}

/** After a kill: the durable snapshot is never behind the WAL's checkpoint. */
const assertSnapshotCoversCheckpoint = async (dataDir: string) => {
  const checkpoint = await checkpointOnDisk(join(dataDir, "wal"))
  const snapshotSeq = await snapshotSeqOnDisk(dataDir)
  assert.isTrue(snapshotSeq >= checkpoint, `snapshot at ${snapshotSeq}, checkpoint at ${checkpoint}`)
}

const servedAggregates = async (service: IngestServiceProcess) =>
  (await getJson<{ readonly entities: ReadonlyArray<ServedEntity> }>(`${service.url}/aggregates`)).entities

describe("examples/ingest-service under SIGKILL", () => {
  it(`${KILLS} kills: aggregates equal a recomputation from the WAL, nothing counted twice`, async () => {
    console.log(`ingest-service crash test: seed ${SEED} (rerun: INGEST_CRASH_SEED=${SEED}), ${KILLS} kills`)
    const dataDir = await mkdtemp(join(tmpdir(), "tidal-wal-ingest-"))
    const walDir = join(dataDir, "wal")
    try {
      const ledger = emptyLedger()
      const fromWal = new Map<bigint, SignalEvent>()
      for (let round = 1; round <= KILLS; round++) {
        await crashRound(dataDir, ledger, round)
        await absorbWal(walDir, fromWal)
        await assertSnapshotCoversCheckpoint(dataDir)
      }

      // The last life: retry, post a little more, let the materializer catch up, read, kill.
      const service = await start(dataDir)
      ledger.ackedThisLife.length = 0
      await retryInDoubt(service.url, ledger, makeRandom(SEED + KILLS + 1))
      let batches = 0
      await postUntil(service.url, ledger, makeRandom(SEED + KILLS + 2), () => batches++ >= 5)
      const { appliedSeq: lastSeq } = await waitUntilApplied(service.url, true)
      const served = await servedAggregates(service)
      await stopIngestService(service, "SIGKILL")
      const firstSeqKept = await absorbWal(walDir, fromWal)

      const events = allEvents(lastSeq, fromWal, ledger)
      assert.strictEqual(new Set(events.map(eventKey)).size, events.length, "an event was written twice")
      const folded = emptyAggregateState()
      for (const event of events) applyEvent(folded, event, HALF_LIFE_NANOS)
      assertEqualsFold(served, folded)
      assertEqualsDirectComputation(served, events)
      assert.isTrue((firstSeqKept ?? 1n) > 1n, "retention never truncated a segment")

      // A restart with nothing new serves the snapshot as it was.
      const idle = await start(dataDir, "1 hour")
      ledger.ackedThisLife.length = 0
      assert.deepStrictEqual(await waitUntilApplied(idle.url), { appliedSeq: lastSeq, snapshotSeq: lastSeq })
      assert.deepStrictEqual(await servedAggregates(idle), served)
      // With periodic snapshots an hour apart, only the shutdown finalizer can snapshot these.
      batches = 0
      await postUntil(idle.url, ledger, makeRandom(SEED + KILLS + 3), () => batches++ >= 3)
      const { appliedSeq: finalSeq } = await waitUntilApplied(idle.url)
      assert.isTrue(finalSeq > lastSeq)
      await stopIngestService(idle, "SIGTERM")
      assert.strictEqual(await snapshotSeqOnDisk(dataDir), finalSeq, "no final snapshot on SIGTERM")
      assert.strictEqual(await checkpointOnDisk(walDir), finalSeq, "no final checkpoint on SIGTERM")
      console.log(
        `ingest-service crash test: ${finalSeq} events, ${ledger.counts.posts} posts, ` +
          `${ledger.counts.deliberateDuplicates} duplicates answered 0, ${ledger.counts.retried} retries ` +
          `(${ledger.counts.retriedWereDurable} already durable), WAL now starts at seq ${firstSeqKept}`
      )
    } finally {
      for (const { child } of started)
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
      await Promise.all(started.map((service) => service.exited))
      await rm(dataDir, { recursive: true, force: true })
    }
  }, 180_000)
})
