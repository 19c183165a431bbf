/**
 * A child process for the real-crash tests: opens the WAL in argv[2] and works until the parent
 * SIGKILLs it, reporting on stdout each thing that became durable.
 *
 * - `append ROUND FIBERS`: FIBERS fibers append `eventFor(ROUND * 1e6 + i)` in a loop; each
 *   acknowledgement is printed as `ack SEQ I`.
 * - `checkpoint`: appends and checkpoints in a loop, printing `checkpoint SEQ` after each.
 * - `hold`: opens and waits (a live lock owner).
 *
 * `ready` is printed once the WAL is open. Output is written synchronously so that what the
 * parent reads was acknowledged before the kill.
 */
import { writeSync } from "node:fs"
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import { WalHandle } from "../../src/index.ts"
import { eventFor } from "./wal.ts"

const [dir = "", mode = "append", roundText = "0", fibersText = "200"] = process.argv.slice(2)
const say = (text: string) => Effect.sync(() => writeSync(1, `${text}\n`))

const appendLoop = (wal: (typeof WalHandle)["Service"], round: number, fibers: number) => {
  let next = 0
  return Effect.forEach(
    Array.from({ length: fibers }, (_, f) => f),
    () =>
      Effect.forever(
        Effect.suspend(() => {
          const i = round * 1_000_000 + next++
          return Effect.flatMap(wal.append(eventFor(i)), (seq) => say(`ack ${seq} ${i}`))
        })
      ),
    { concurrency: "unbounded", discard: true }
  )
}

const checkpointLoop = (wal: (typeof WalHandle)["Service"]) => {
  let i = 0
  return Effect.forever(
    Effect.gen(function* () {
      const seq = yield* wal.append(eventFor(9_000_000_000 + i++ + Number(process.pid) * 1000))
      yield* wal.checkpoint(seq)
      yield* say(`checkpoint ${seq}`)
    })
  )
}

const program = Effect.gen(function* () {
  const [wal] = yield* WalHandle.open({ dir, segmentMaxBytes: 8192, groupCommit: "window" })
  yield* say("ready")
  if (mode === "append") return yield* appendLoop(wal, Number(roundText), Number(fibersText))
  if (mode === "checkpoint") return yield* checkpointLoop(wal)
  return yield* Effect.never
}).pipe(Effect.scoped, Effect.provide(NodeServices.layer))

NodeRuntime.runMain(program)
