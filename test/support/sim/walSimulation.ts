/**
 * One seeded round of the power-cut simulation: the WAL runs on the simulated disk through one to
 * four ends of a life — power cuts and process kills, mixed (in open, in recovery, in the middle
 * of appends, checkpoints and truncations) — is reopened after each, and after every successful
 * open the log is checked against what the callers were told:
 * - every acknowledged event is on disk at its sequence number, identical (unless a requested
 *   truncation may have removed it);
 * - every event a replay handed out counts as acknowledged from then on: the consumer may have
 *   materialized and checkpointed it, so no later cut may take it back — a process kill keeps
 *   unsynced bytes in the page cache, and only a sync at open makes them durable;
 * - sequence numbers run without a gap; no event was invented or written twice;
 * - the replay is exactly the events after the checkpoint, and the next sequence number follows;
 * - the checkpoint never falls below one that was acknowledged;
 * - open succeeds in the default mode whenever the power did not go, or the process was not
 *   killed, during it.
 *
 * Everything (config, workload, cut points, the fate of every unsynced byte) follows from the
 * seed, and the clock is the TestClock, so a failing seed reruns exactly.
 */
import { NodePath } from "@effect/platform-node"
import { Effect, Exit, Fiber, FileSystem, Stream } from "effect"
import { TestClock } from "effect/testing"
import {
  type ReplayedEvent,
  type SignalEvent,
  type WalConfigInput,
  WalHandle,
  WalReader
} from "../../../src/index.ts"
import { batchSizeBytes } from "../../../src/internal/format/batchCodec.ts"
import { DirectoryLocker, inMemoryDirectoryLocker } from "../../../src/internal/fs/directoryLock.ts"
import type { WalHandleShape } from "../../../src/WalHandle.ts"
import { makeRng, type Rng } from "./rng.ts"
import type { DiskImage } from "./SimDisk.ts"
import { type SimOptions, SimulatedDisk } from "./simFileSystem.ts"

export const WAL_DIR = "/sim/wal"

/** What the callers were told, across every life of a round. */
interface Model {
  readonly acked: Map<bigint, SignalEvent>
  /** Every event any caller submitted, by entityId (unique per submission, but for deliberate repeats). */
  readonly submitted: Map<bigint, SignalEvent>
  readonly requestedCheckpoints: Set<bigint>
  ackedCheckpoint: bigint
  /** The highest `truncateBefore` ever requested: events below it may be gone. */
  truncationRequested: bigint
  /** Events handed out by a replay (and so from then on held to the acknowledged rule). */
  replayedCount: number
  nextEntity: number
}

export interface RoundResult {
  readonly lives: number
  readonly kills: number
  /** Lives whose power cut or kill came during open. */
  readonly endsInOpen: number
  readonly acked: number
  readonly replayed: number
  readonly trace: string
}

type LifeEnd = "PowerCut" | "ProcessKill"

export const runRound = (seed: number): Effect.Effect<RoundResult, Error> =>
  Effect.gen(function* () {
    const rng = makeRng(seed)
    const model: Model = {
      acked: new Map(),
      submitted: new Map(),
      requestedCheckpoints: new Set([0n]),
      ackedCheckpoint: 0n,
      truncationRequested: 0n,
      replayedCount: 0,
      nextEntity: 1
    }
    const ends = rng.int(1, 4)
    let endsInOpen = 0
    let kills = 0
    let previousCalls = 60
    let disk: SimulatedDisk | undefined
    let previousEnd: LifeEnd = "PowerCut"
    let image: DiskImage = SimulatedDisk.withDirectories(["/sim"], rng).powerCut()
    const traces: Array<string> = []
    for (let life = 0; life <= ends; life++) {
      const lastLife = life === ends
      const end: LifeEnd | undefined = lastLife ? undefined : rng.pick(["PowerCut", "ProcessKill"] as const)
      const atCall = lastLife ? undefined : rng.chance(0.3) ? rng.int(1, 40) : rng.int(1, previousCalls + 100)
      const options = end === "ProcessKill" ? killPoint(rng, atCall) : { cutAtCall: atCall }
      if (disk !== undefined && previousEnd === "ProcessKill") {
        disk.nextLife(options)
      } else {
        if (disk !== undefined) traces.push(disk.trace.join("\n"))
        disk = new SimulatedDisk(image, rng, options)
      }
      const outcome = yield* runLife(disk, model, rng, lastLife)
      if (outcome === "EndedInOpen") endsInOpen++
      previousCalls = disk.callCount
      if (end === "ProcessKill") {
        // Killed at its call, or after its work if it never got there: the page cache stays.
        disk.processKill()
        kills++
      } else {
        image = disk.powerCut()
      }
      previousEnd = end ?? "PowerCut"
    }
    if (disk !== undefined) traces.push(disk.trace.join("\n"))
    return {
      lives: ends + 1,
      kills,
      endsInOpen,
      acked: model.acked.size,
      replayed: model.replayedCount,
      trace: traces.join("\n--\n")
    }
  }).pipe(
    // A clock of its own, from 0: a round reruns exactly alone, whatever ran before it.
    Effect.provide(TestClock.layer())
  )

// internals

/**
 * Where a life is killed: at a random call, or (a third of the time) right after one of its first
 * segment creations — before the directory sync that makes the new name durable, which a call
 * count rarely hits.
 */
const killPoint = (rng: Rng, atCall: number | undefined): SimOptions =>
  rng.chance(1 / 3)
    ? { killAfter: { method: "create", pathEndsWith: ".seg", skip: rng.int(0, 2) } }
    : { killAtCall: atCall }

const randomConfig = (rng: Rng): WalConfigInput => {
  const batchMaxEvents = rng.pick([1, 2, 5, rng.int(1, 100)])
  return {
    dir: WAL_DIR,
    batchMaxEvents,
    segmentMaxBytes: batchSizeBytes(batchMaxEvents) * rng.int(1, 4) + rng.int(0, 300),
    groupCommit: rng.pick(["window", "eager"] as const),
    batchMaxWait: `${rng.int(0, 5)} millis`,
    queueCapacity: rng.pick([1, 8, 1000])
  }
}

const runLife = (disk: SimulatedDisk, model: Model, rng: Rng, lastLife: boolean) =>
  Effect.gen(function* () {
    const clock = yield* Effect.forkChild(
      Effect.forever(Effect.andThen(TestClock.adjust("1 millis"), Effect.yieldNow))
    )
    const config = randomConfig(rng)
    const outcome = yield* Effect.scoped(
      Effect.gen(function* () {
        const opened = yield* Effect.exit(WalHandle.open(config))
        if (Exit.isFailure(opened)) {
          if (disk.isCut || disk.isKilled) return "EndedInOpen" as const
          return yield* Effect.fail(
            new Error(`open failed with no power cut or kill: ${String(opened.cause)}`)
          )
        }
        const [wal] = opened.value
        yield* checkRecovered(disk, wal, model)
        yield* Effect.sync(() => takeReplayAsAcknowledged(wal, model))
        if (!lastLife) yield* workload(disk, wal, model, rng)
        return "Opened" as const
      })
    ).pipe(
      Effect.provideService(FileSystem.FileSystem, disk.fileSystem),
      // A new machine each life: a power cut frees every lock (the kernel's lock is not on this disk).
      Effect.provideService(DirectoryLocker, inMemoryDirectoryLocker())
    )
    yield* Fiber.interrupt(clock)
    return outcome
  }).pipe(Effect.provide(NodePath.layer))

const sameEvent = (a: SignalEvent, b: SignalEvent): boolean =>
  a.entityId === b.entityId &&
  a.signalType === b.signalType &&
  a.weight === Math.fround(b.weight) &&
  a.timestamp === b.timestamp

const check = (condition: boolean, message: () => string): Effect.Effect<void, Error> =>
  condition ? Effect.void : Effect.fail(new Error(message()))

/** The invariants after a successful open, against the log as it is on the (simulated) disk. */
const checkRecovered = (disk: SimulatedDisk, wal: WalHandleShape, model: Model) =>
  Effect.gen(function* () {
    const checkpoint = wal.recovery.checkpoint
    yield* check(
      checkpoint >= model.ackedCheckpoint,
      () => `checkpoint ${checkpoint} fell below the acknowledged ${model.ackedCheckpoint}`
    )
    yield* check(
      model.requestedCheckpoints.has(checkpoint),
      () => `checkpoint ${checkpoint} was never requested`
    )
    const log = yield* WalReader.read(WAL_DIR).pipe(
      Stream.runCollect,
      Effect.provideService(FileSystem.FileSystem, disk.inspection),
      Effect.mapError((e) => new Error(`the log does not read back after open: ${e.message}`))
    )
    const events = Array.from(log)
    const firstSeq = events[0]?.seq ?? checkpoint + 1n
    yield* check(
      firstSeq <= checkpoint + 1n,
      () => `events ${checkpoint + 1n}..${firstSeq - 1n} are missing (checkpoint ${checkpoint})`
    )
    const seen = new Set<bigint>()
    for (const [i, event] of events.entries()) {
      yield* check(
        event.seq === firstSeq + BigInt(i),
        () => `gap: event ${i} has seq ${event.seq}, expected ${firstSeq + BigInt(i)}`
      )
      const submitted = model.submitted.get(event.entityId)
      yield* check(
        submitted !== undefined && sameEvent(event, submitted),
        () => `seq ${event.seq} holds an invented event`
      )
      yield* check(
        !seen.has(event.entityId),
        () => `entity ${event.entityId} written twice (again at seq ${event.seq})`
      )
      seen.add(event.entityId)
    }
    const lastSeq = events.at(-1)?.seq ?? wal.recovery.lastSeq
    for (const [seq, event] of model.acked) {
      // Gone only if a truncation may have removed it (truncation never passes the checkpoint).
      if (seq < firstSeq && seq < model.truncationRequested) continue
      const onDisk = events[Number(seq - firstSeq)]
      yield* check(
        onDisk !== undefined && onDisk.seq === seq && sameEvent(onDisk, event),
        () => `acknowledged seq ${seq} is lost or changed`
      )
    }
    yield* checkReplay(wal, events, checkpoint)
    const nextSeq = yield* wal.nextSeq
    const expectedNext = (lastSeq > checkpoint ? lastSeq : checkpoint) + 1n
    yield* check(nextSeq === expectedNext, () => `next seq ${nextSeq}, expected ${expectedNext}`)
  })

const checkReplay = (wal: WalHandleShape, events: ReadonlyArray<ReplayedEvent>, checkpoint: bigint) => {
  const expected = events.filter((e) => e.seq > checkpoint)
  const replayed = Array.from(wal.replayed)
  return check(
    replayed.length === expected.length &&
      replayed.every((e, i) => {
        const want = expected[i]
        return want !== undefined && e.seq === want.seq && sameEvent(e, want)
      }),
    () =>
      `replay holds ${replayed.length} events, expected the ${expected.length} after checkpoint ${checkpoint}`
  )
}

/**
 * The replay was handed to the consumer, who may materialize and checkpoint it: from now on its
 * events are held to the rule for acknowledged ones.
 */
const takeReplayAsAcknowledged = (wal: WalHandleShape, model: Model): void => {
  for (const event of wal.replayed) {
    const submitted = model.submitted.get(event.entityId)
    if (submitted !== undefined) model.acked.set(event.seq, submitted)
    model.replayedCount++
  }
}

const newEvent = (model: Model): SignalEvent => {
  const n = model.nextEntity++
  const event: SignalEvent = {
    entityId: BigInt(n),
    signalType: n % 256,
    weight: n / 7,
    timestamp: BigInt(n) * 1000n
  }
  model.submitted.set(event.entityId, event)
  return event
}

const recordAcks = (
  model: Model,
  events: ReadonlyArray<SignalEvent>,
  seqs: ReadonlyArray<bigint>,
  repeat: boolean
) =>
  Effect.forEach(events, (event, i) => {
    const seq = seqs[i] ?? 0n
    if (seq === 0n)
      return check(repeat, () => `a fresh event (entity ${event.entityId}) was answered as a duplicate`)
    return Effect.sync(() => {
      model.acked.set(seq, event)
    })
  })

/** Appenders and a checkpointer, until each is done or the power is gone. */
const workload = (disk: SimulatedDisk, wal: WalHandleShape, model: Model, rng: Rng) => {
  const appender = (ops: number, seed: number) =>
    Effect.gen(function* () {
      const own = makeRng(seed)
      const mine: Array<SignalEvent> = []
      for (let op = 0; op < ops && !disk.isCut; op++) {
        const repeat = mine.length > 0 && own.chance(0.05)
        const events = repeat
          ? [own.pick(mine)]
          : Array.from({ length: own.chance(0.6) ? 1 : own.int(1, 30) }, () => newEvent(model))
        const result = yield* Effect.exit(
          events.length === 1 && own.chance(0.8)
            ? Effect.map(wal.append(events[0] as SignalEvent), (seq) => [seq])
            : wal.appendAll(events)
        )
        if (Exit.isSuccess(result)) {
          yield* recordAcks(model, events, result.value, repeat)
          mine.push(...events.filter((_, i) => (result.value[i] ?? 0n) > 0n))
        }
        yield* Effect.yieldNow
      }
    })
  const checkpointer = (rounds: number) =>
    Effect.gen(function* () {
      for (let r = 0; r < rounds && !disk.isCut; r++) {
        yield* Effect.sleep("2 millis")
        const candidates = [...model.acked.keys()].filter((s) => s >= model.ackedCheckpoint)
        if (candidates.length === 0) continue
        const seq = rng.pick(candidates)
        model.requestedCheckpoints.add(seq)
        const done = yield* Effect.exit(wal.checkpoint(seq))
        if (Exit.isFailure(done)) continue
        if (seq > model.ackedCheckpoint) model.ackedCheckpoint = seq
        if (!rng.chance(0.5)) continue
        if (seq + 1n > model.truncationRequested) model.truncationRequested = seq + 1n
        yield* Effect.exit(wal.truncateBefore(seq + 1n))
      }
    })
  const appenders = Array.from({ length: rng.int(1, 12) }, () =>
    appender(rng.int(1, 40), rng.int(1, 2 ** 31))
  )
  return Effect.all([...appenders, checkpointer(rng.int(0, 6))], {
    concurrency: "unbounded",
    discard: true
  }).pipe(
    Effect.timeoutOrElse({
      duration: "120 seconds",
      orElse: () => Effect.fail(new Error("the workload hung (120 s of virtual time)"))
    })
  )
}
