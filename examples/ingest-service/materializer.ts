/**
 * The materializer: a layer that loads the last snapshot, then forks two scoped fibers — one
 * follows `wal.tail` and applies each event to the aggregates, the other periodically snapshots
 * them, checkpoints the WAL and truncates it.
 *
 * Why nothing is counted twice or missed, whenever the process dies:
 * 1. A snapshot holds the aggregates *and* the seq S of the last event in them, replaced atomically.
 * 2. `checkpoint(S)` runs only after that snapshot is durable, so the checkpoint C ≤ S always.
 * 3. `truncateBefore(C')` for an older checkpoint C' ≤ C (retention.ts says why older) deletes
 *    only segments whose events are all below C', so every event > S is still on disk.
 * 4. On start the materializer loads the snapshot and tails from S + 1: events ≤ S are in the
 *    snapshot, events > S come from the WAL, each exactly once (`applyEvent` asserts it).
 *
 * The WAL is opened with `replay: "none"`: `tail` reads from disk whatever is past the snapshot.
 */
import {
  Cause,
  Clock,
  Context,
  Duration,
  Effect,
  Fiber,
  FileSystem,
  Layer,
  Option,
  Path,
  Schema,
  Stream
} from "effect"
import { WalHandle, type WalHandleShape } from "../../src/index.ts"
import { type AggregateState, applyEvent, emptyAggregateState } from "./aggregates.ts"
import { IngestConfig } from "./config.ts"
import { makeRetentionClock } from "./retention.ts"
import {
  readSnapshot,
  SnapshotError,
  type SnapshotIdentity,
  serializeSnapshot,
  writeSnapshot
} from "./snapshot.ts"

/** What the rest of the service sees of the materializer. */
export interface MaterializerShape {
  /** The aggregates now. Read-only for callers; read synchronously, they are always consistent. */
  readonly state: AggregateState
  /** The seq of the last event in a durable snapshot. */
  readonly snapshotSeq: () => bigint
  /** Fails when the materializer stops (a read or disk error, the WAL closing); never succeeds. */
  readonly failure: Effect.Effect<never, MaterializerStopped>
}

/** The materializer stopped; the service must stop with it rather than serve stale aggregates. */
export class MaterializerStopped extends Schema.TaggedError<MaterializerStopped>()("MaterializerStopped", {
  detail: Schema.String
}) {
  override get message(): string {
    return `materializer stopped: ${this.detail}`
  }
}

export class Materializer extends Context.Service<Materializer, MaterializerShape>()(
  "examples/ingest-service/Materializer"
) {
  static readonly layer = Layer.effect(
    Materializer,
    Effect.gen(function* () {
      const config = yield* IngestConfig
      const wal = yield* WalHandle
      const fs = yield* FileSystem.FileSystem
      const identity = { walId: wal.walId, halfLifeNanos: config.halfLifeNanos }
      const loaded = yield* readSnapshot(fs, config.snapshotFile, identity)
      const state = Option.getOrElse(loaded, emptyAggregateState)
      yield* checkSnapshotAgainstWal(state.appliedSeq, wal, config.snapshotFile)

      const { persist, snapshotSeq } = yield* makePersister(state, identity)
      // Registered before the fibers are forked, so it runs after they are interrupted: on a
      // clean shutdown the last events applied are snapshotted and checkpointed too.
      yield* Effect.addFinalizer(() =>
        persist.pipe(Effect.catchCause((cause) => Effect.logError("final snapshot failed", cause)))
      )
      const applier = yield* wal.tail(state.appliedSeq + 1n).pipe(
        Stream.runForEachArray((events) =>
          Effect.sync(() => {
            for (const event of events) applyEvent(state, event, config.halfLifeNanos)
          })
        ),
        Effect.forkScoped
      )
      const snapshotter = yield* persist.pipe(
        Effect.delay(Duration.millis(config.snapshotIntervalMillis)),
        Effect.forever,
        Effect.forkScoped
      )
      const failure = Effect.raceFirst(
        Fiber.join(applier).pipe(Effect.andThen(Effect.fail("the WAL closed, so its tail ended"))),
        Fiber.join(snapshotter)
      ).pipe(
        Effect.catchCause((cause) => Effect.fail(new MaterializerStopped({ detail: Cause.pretty(cause) })))
      )
      return Materializer.of({ state, snapshotSeq, failure })
    })
  )
}

/**
 * The step the snapshotter repeats: snapshot what changed, then checkpoint it, then truncate
 * whatever retention allows — in that order, each only after the one before is durable.
 */
const makePersister = (state: AggregateState, identity: SnapshotIdentity) =>
  Effect.gen(function* () {
    const config = yield* IngestConfig
    const wal = yield* WalHandle
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    let snapshotSeq = state.appliedSeq
    let checkpointSeq = wal.recovery.checkpoint
    let truncatedBeforeSeq = 0n
    const retention = makeRetentionClock(config.retentionLagMillis)
    retention.recordCheckpoint(checkpointSeq, yield* Clock.currentTimeMillis) // its age is unknown
    const persist = Effect.gen(function* () {
      if (state.appliedSeq > snapshotSeq) {
        const seq = state.appliedSeq
        const text = serializeSnapshot(state, identity) // same synchronous step as reading seq
        yield* writeSnapshot(fs, path, config.snapshotFile, text)
        snapshotSeq = seq
      }
      if (snapshotSeq > checkpointSeq) {
        yield* wal.checkpoint(snapshotSeq) // only now: the snapshot holding it is durable
        checkpointSeq = snapshotSeq
        retention.recordCheckpoint(checkpointSeq, yield* Clock.currentTimeMillis)
      }
      const truncateBeforeSeq = retention.truncatableBefore(yield* Clock.currentTimeMillis)
      if (truncateBeforeSeq !== undefined && truncateBeforeSeq > truncatedBeforeSeq) {
        yield* wal.truncateBefore(truncateBeforeSeq) // whole segments, all below that checkpoint
        truncatedBeforeSeq = truncateBeforeSeq
      }
    })
    return { persist, snapshotSeq: () => snapshotSeq }
  })

/**
 * A snapshot behind the WAL's checkpoint means events it lacks may already be truncated; one
 * ahead of the WAL's last event belongs to other data. Either way counting would go wrong.
 */
const checkSnapshotAgainstWal = (
  snapshotSeq: bigint,
  wal: WalHandleShape,
  snapshotFile: string
): Effect.Effect<void, SnapshotError> =>
  Effect.gen(function* () {
    const lastSeq = (yield* wal.nextSeq) - 1n
    if (snapshotSeq < wal.recovery.checkpoint) {
      return yield* new SnapshotError({
        path: snapshotFile,
        detail: `holds events up to ${snapshotSeq}, but the WAL was checkpointed at ${wal.recovery.checkpoint}: the events in between may be truncated`
      })
    }
    if (snapshotSeq > lastSeq) {
      return yield* new SnapshotError({
        path: snapshotFile,
        detail: `holds events up to ${snapshotSeq}, but the WAL ends at ${lastSeq}`
      })
    }
  })
