/**
 * The peers and limits the WAL is measured beside, each building its events from the same pool
 * (bench/eventPool.ts) as the WAL's callers do:
 *
 * - node:sqlite (`DatabaseSync`, built into Node 24): journal_mode=WAL, synchronous=FULL, 100 rows
 *   a transaction — one fsync of SQLite's own WAL file per commit, as the WAL does one per batch.
 *   The row is the event's four fields as columns, which is what an SQLite user writes (the table
 *   stays queryable, no codec of one's own); the u64 fields are bound as BigInt parsed from the
 *   strings, the same conversion the WAL's callers pay. `row: "blob"` stores the 21-byte record
 *   instead, to check that choice. Serial only: `DatabaseSync` blocks the one JS thread and SQLite
 *   has one writer at a time without group commit, so 100 callers would queue for the same
 *   transactions one after another.
 * - The raw write+fsync loop at the WAL's batch size, serial (the sync API: the cheapest loop there
 *   is) and pipelined: up to `depth` batches written and not yet synced, writes in order (write
 *   k+1 starts once write k returned), syncs overlapping — the WAL's own pipeline without the WAL.
 *   Both use fsync, as the WAL does (effect's `File.sync` is `fs.fsync`), and encode each record
 *   into the batch buffer from the pool's values. No checksum: this is the disk's limit.
 */
import { closeSync, fsync, fsyncSync, openSync, unlinkSync, write, writeSync } from "node:fs"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { batchSizeBytes } from "../src/internal/format/batchCodec.ts"
import { writeEventRecord } from "../src/internal/format/eventRecord.ts"
import { BATCH_HEADER_BYTES, EVENT_RECORD_BYTES } from "../src/internal/format/layout.ts"
import { type CaseResult, type CaseTiming, PEER_BATCH_EVENTS } from "./cases.ts"
import { type EventPool, makeEventPool } from "./eventPool.ts"
import { startUsageMeter, type Usage, type UsageMeter } from "./usage.ts"
import { percentile } from "./walCase.ts"

type PeerResult = Omit<CaseResult, "id">

/**
 * A peer's result. `batchMillis`: how long each measured batch took to be durable, from the start
 * of its first write to the end of its sync (SQLite: BEGIN to COMMIT) — the acknowledgement
 * latency a caller of that batch would see, and the disk's own tail for the WAL's p99 to be read
 * against.
 */
const peerResult = (usage: Usage, events: number, batchMillis: Float64Array): PeerResult => {
  if (events === 0) throw new Error("no batch completed in the measured interval")
  const sorted = batchMillis.slice().sort()
  return {
    events,
    eventsPerSecond: events / (usage.wallMillis / 1000),
    cpuMicrosPerEvent: usage.processCpuMicros / events,
    threadCpuMicrosPerEvent: usage.threadCpuMicros / events,
    gcShare: usage.gcShare,
    latencyP50Millis: percentile(sorted, 0.5),
    latencyP99Millis: percentile(sorted, 0.99),
    meanBatchEvents: PEER_BATCH_EVENTS
  }
}

/** Room for the latency of every measured batch (at 100 events a batch, far past any disk's rate). */
const BATCH_LATENCY_SLOTS = 1 << 20

/** Durations of batches, appended up to `BATCH_LATENCY_SLOTS`. */
const makeBatchTimes = () => {
  const millis = new Float64Array(BATCH_LATENCY_SLOTS)
  let count = 0
  return {
    record: (startMillis: number) => {
      if (count < millis.length) millis[count++] = performance.now() - startMillis
    },
    recorded: () => millis.subarray(0, count)
  }
}

/** Runs `batch` until `seconds` pass, timing each if `times` is given; returns how many batches ran. */
const repeatFor = (seconds: number, batch: () => void, times?: ReturnType<typeof makeBatchTimes>): number => {
  const deadline = performance.now() + seconds * 1000
  let batches = 0
  for (let start = performance.now(); start < deadline; start = performance.now()) {
    batch()
    times?.record(start)
    batches++
  }
  return batches
}

/** Warms up, then measures, a loop of synchronous batches of `PEER_BATCH_EVENTS` events. */
const measureSyncLoop = (timing: CaseTiming, batch: () => void): PeerResult => {
  repeatFor(timing.warmupSeconds, batch)
  const times = makeBatchTimes()
  const meter = startUsageMeter()
  const batches = repeatFor(timing.seconds, batch, times)
  return peerResult(meter.stop(), batches * PEER_BATCH_EVENTS, times.recorded())
}

export const measureSqlite = (dir: string, row: "columns" | "blob", timing: CaseTiming): PeerResult => {
  const db = new DatabaseSync(join(dir, "events.db"))
  try {
    db.exec("PRAGMA journal_mode = WAL")
    db.exec("PRAGMA synchronous = FULL")
    const pool = makeEventPool()
    let k = 0
    const insertRows = row === "columns" ? insertColumns(db, pool) : insertBlobs(db, pool)
    return measureSyncLoop(timing, () => {
      db.exec("BEGIN")
      k = insertRows(k)
      db.exec("COMMIT")
    })
  } finally {
    db.close()
  }
}

/** Inserts `PEER_BATCH_EVENTS` rows from event `k` on; returns the next `k`. */
type InsertRows = (k: number) => number

const insertColumns = (db: DatabaseSync, pool: EventPool): InsertRows => {
  db.exec(
    "CREATE TABLE events (seq INTEGER PRIMARY KEY, entity_id INTEGER NOT NULL, " +
      "signal_type INTEGER NOT NULL, weight REAL NOT NULL, timestamp INTEGER NOT NULL)"
  )
  const insert = db.prepare(
    "INSERT INTO events (entity_id, signal_type, weight, timestamp) VALUES (?, ?, ?, ?)"
  )
  return (k) => {
    for (let end = k + PEER_BATCH_EVENTS; k < end; k++) {
      insert.run(BigInt(pool.entityId(k)), pool.signalType(k), pool.weight(k), BigInt(pool.timestamp(k)))
    }
    return k
  }
}

const insertBlobs = (db: DatabaseSync, pool: EventPool): InsertRows => {
  db.exec("CREATE TABLE events (seq INTEGER PRIMARY KEY, record BLOB NOT NULL)")
  const insert = db.prepare("INSERT INTO events (record) VALUES (?)")
  return (k) => {
    for (let end = k + PEER_BATCH_EVENTS; k < end; k++) {
      const record = new Uint8Array(EVENT_RECORD_BYTES)
      pool.encodeInto(new DataView(record.buffer), 0, k)
      insert.run(record)
    }
    return k
  }
}

/** The raw loops must write the bytes the WAL writes: checks the pool's direct encoding against the codec's. */
const assertSameEncoding = (pool: EventPool): void => {
  const direct = new Uint8Array(EVENT_RECORD_BYTES * 3)
  const viaCodec = new Uint8Array(EVENT_RECORD_BYTES * 3)
  for (let k = 0; k < 3; k++) {
    pool.encodeInto(new DataView(direct.buffer), k * EVENT_RECORD_BYTES, k)
    writeEventRecord(new DataView(viaCodec.buffer), k * EVENT_RECORD_BYTES, pool.signalEvent(k))
  }
  if (!direct.every((byte, i) => byte === viaCodec[i])) {
    throw new Error("bench/eventPool.ts: the raw loops' record encoding differs from the WAL's")
  }
}

/** Fills a batch buffer as the raw loops write it: `PEER_BATCH_EVENTS` records after a (blank) batch header. */
const makeBatchEncoder = () => {
  const pool = makeEventPool()
  assertSameEncoding(pool)
  let k = 0
  return (batch: Uint8Array): void => {
    const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength)
    for (let i = 0; i < PEER_BATCH_EVENTS; i++) {
      pool.encodeInto(view, BATCH_HEADER_BYTES + i * EVENT_RECORD_BYTES, k++)
    }
  }
}

export const measureRawSerial = (dir: string, timing: CaseTiming): PeerResult => {
  const file = join(dir, "raw-serial.bin")
  const fd = openSync(file, "w")
  const batch = new Uint8Array(batchSizeBytes(PEER_BATCH_EVENTS))
  const encode = makeBatchEncoder()
  try {
    return measureSyncLoop(timing, () => {
      encode(batch)
      writeSync(fd, batch)
      fsyncSync(fd)
    })
  } finally {
    closeSync(fd)
    unlinkSync(file)
  }
}

/** Pipelined raw loop: up to `depth` batches between the start of their write and the end of their sync. */
export const measureRawPipelined = (dir: string, depth: number, timing: CaseTiming): Promise<PeerResult> =>
  new Promise((resolve, reject) => {
    const file = join(dir, "raw-pipelined.bin")
    const fd = openSync(file, "w")
    // One buffer per batch that may be on its way, plus the one being filled (as the WAL's staging).
    const buffers = Array.from({ length: depth + 1 }, () => new Uint8Array(batchSizeBytes(PEER_BATCH_EVENTS)))
    const encode = makeBatchEncoder()
    let slot = 0
    let writing = false
    let inFlight = 0
    let syncedWhileMeasuring = 0
    let meter: UsageMeter | undefined
    let running = true
    let failure: Error | undefined
    let finished = false
    const finish = () => {
      if (finished) return
      finished = true
      const usage = meter?.stop()
      closeSync(fd)
      unlinkSync(file)
      if (failure !== undefined) reject(failure)
      else if (usage === undefined) reject(new Error("the measured interval never started"))
      else resolve(peerResult(usage, syncedWhileMeasuring * PEER_BATCH_EVENTS, times.recorded()))
    }
    const times = makeBatchTimes()
    const synced = (error: Error | null, startMillis: number) => {
      failure ??= error ?? undefined
      inFlight--
      if (meter !== undefined) {
        syncedWhileMeasuring++
        times.record(startMillis)
      }
      pump()
    }
    const written = (error: Error | null, startMillis: number) => {
      failure ??= error ?? undefined
      writing = false
      fsync(fd, (syncError) => synced(syncError, startMillis))
      pump()
    }
    const pump = (): void => {
      if (running && failure === undefined && !writing && inFlight < depth) {
        const batch = buffers[slot] ?? new Uint8Array(0)
        slot = (slot + 1) % buffers.length
        encode(batch)
        writing = true
        inFlight++
        const startMillis = performance.now()
        write(fd, batch, 0, batch.byteLength, null, (error) => written(error, startMillis))
      } else if ((!running || failure !== undefined) && inFlight === 0 && !writing) {
        finish()
      }
    }
    setTimeout(() => {
      if (finished) return
      meter = startUsageMeter()
      setTimeout(() => {
        running = false
        if (inFlight === 0 && !writing) finish()
      }, timing.seconds * 1000)
    }, timing.warmupSeconds * 1000)
    pump()
  })
