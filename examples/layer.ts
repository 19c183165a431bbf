/**
 * The README's "Use" example, kept compiling (tsc checks examples/) and runnable:
 * `node examples/layer.ts` appends one event to ./wal-data, checkpoints it, and reports typed errors.
 * Run it twice: the second run's event is a duplicate (inside the 30 s window), and is not
 * checkpointed — `appendOutcome` says so in its type.
 */
import { NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import { AppendOutcome, SignalType, WalHandle } from "../src/index.ts"

const program = Effect.gen(function* () {
  const wal = yield* WalHandle
  // Replayed after a restart: every event after the last checkpoint, stored 21 bytes per event.
  for (const event of wal.replayed) console.log(event.seq, event.entityId)
  const outcome = yield* wal.appendOutcome({
    entityId: 42n,
    signalType: SignalType.like,
    weight: 1.5,
    timestamp: 1_700_000_000_000_000_000n
  })
  // Written: durable under `seq`. Duplicate: an identical event is in the dedup window, not written again.
  if (AppendOutcome.$is("Written")(outcome)) yield* wal.checkpoint(outcome.seq)
}).pipe(
  Effect.catchTags({
    InvalidEventError: (e) => Effect.logError(`rejected ${e.field} = ${e.value}`),
    ClosedError: (e) => Effect.logError(e.message),
    IoError: (e) => Effect.logError(`disk failure during ${e.operation} of ${e.path}`),
    CheckpointError: (e) => Effect.logError(e.message)
  })
)

await program.pipe(
  Effect.provide(WalHandle.layer({ dir: "./wal-data", dedupWindow: "30 seconds" })),
  Effect.catchTags({
    // Failures of open: the layer's own typed errors.
    LockedError: (e) => Effect.logError(`another process (pid ${e.ownerPid}) has ${e.dir} open`),
    CorruptionError: (e) => Effect.logError(`${e.file} at byte ${e.offsetBytes}: ${e.reason}`)
  }),
  Effect.provide(NodeServices.layer),
  Effect.runPromise
)
