/**
 * Issue #12 across processes (SPEC §3 "Open": "from another process, and from a process in another
 * PID namespace"; "a lock is taken over only when its owner is proven dead"). Real child processes
 * race for a directory, some rounds right after its holder was SIGKILLed; pid-1 processes of two
 * PID namespaces meet on one directory. Public API only, so each test also runs against the earlier lock.
 */
import { rmSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { LockedError, WalHandle } from "../../src/index.ts"
import {
  openFromChild,
  pidNamespacesAvailable,
  readyLockChild,
  spawnLockChild
} from "../support/lockProcess.ts"
import { eventFor, nodeLayer, plainEvent, seededRng, tempDir } from "../support/wal.ts"

const ROUNDS = Number(process.env.TIDAL_WAL_LOCK_ROUNDS ?? 24)
const RACERS = 4
/** Each racer waits a random 0..MAX_DELAY_MICROS after "go": starts spread over the open path. */
const MAX_DELAY_MICROS = 3_000
const MAX_HOLD_MILLIS = 20
const KILL_EVERY = 3
const SPARES = 2

describe("the directory lock across processes", () => {
  it.live(
    `${ROUNDS} rounds: ${RACERS} processes race for the lock, never two holders; a SIGKILLed holder's lock is free`,
    () =>
      Effect.gen(function* () {
        const { seed, next: random } = seededRng("TIDAL_WAL_LOCK_SEED", "lock race delays")
        const dir = join(yield* tempDir, "wal")
        const racers = yield* Effect.forEach(Array.from({ length: RACERS }), () => spawnRacer(dir), {
          concurrency: "unbounded"
        })
        // Node takes seconds to start on a loaded machine: replacements start ahead, in parallel.
        const spares = yield* Effect.forEach(Array.from({ length: SPARES }), () =>
          Effect.forkChild(spawnRacer(dir))
        )
        const written: Array<{ readonly seq: bigint; readonly id: number }> = []
        for (let round = 1; round <= ROUNDS; round++) {
          // Every KILL_EVERY-th round the holder keeps the lock and is SIGKILLed: the next round
          // starts from a dead owner's lock, and must need no manual step.
          const keep = round % KILL_EVERY === 0
          yield* Effect.forEach(racers, (racer, index) =>
            racer.send(
              `go ${round} ${Math.floor(random() * MAX_DELAY_MICROS)} ${Math.floor(random() * MAX_HOLD_MILLIS)} ${keep ? 1 : 0} ${round * 10 + index}`
            )
          )
          const answers = yield* Effect.forEach(racers, (racer) => racer.line(""), {
            concurrency: "unbounded"
          })
          const context = `round ${round} (seed ${seed}): ${answers.join(" | ")}`
          const winners = answers.flatMap((answer, index) =>
            answer.startsWith(`won ${round} `) ? [index] : []
          )
          assert.isTrue(
            answers.every((answer) => answer.startsWith(`won ${round} `) || answer === `locked ${round}`),
            context
          )
          assert.isAtLeast(winners.length, 1, context)
          if (keep) assert.strictEqual(winners.length, 1, context)
          for (const winner of winners) {
            const [, , seq = "", id = ""] = (answers[winner] ?? "").split(" ")
            written.push({ seq: BigInt(seq), id: Number(id) })
          }
          const keeper = winners[0]
          if (!keep || keeper === undefined) continue
          yield* racers[keeper]?.kill ?? Effect.void
          rmSync(join(dir, "holding"))
          spares.push(yield* Effect.forkChild(spawnRacer(dir)))
          const spare = spares.shift()
          if (spare !== undefined) racers[keeper] = yield* Fiber.join(spare)
        }
        yield* Effect.forEach(racers, (racer) => racer.kill, { concurrency: "unbounded" })
        yield* Effect.forEach(spares, (spare) => Effect.flatMap(Fiber.join(spare), (racer) => racer.kill))
        // One holder at a time: the acknowledged seqs are 1..n without gaps or repeats, and the log
        // holds exactly those events in that order.
        written.sort((a, b) => (a.seq < b.seq ? -1 : 1))
        assert.deepStrictEqual(
          written.map((entry) => entry.seq),
          written.map((_, index) => BigInt(index + 1))
        )
        const [, replayed] = yield* WalHandle.open({ dir })
        assert.deepStrictEqual(
          Array.from(replayed, (event) => plainEvent(event)),
          written.map((entry) => eventFor(entry.id))
        )
      }).pipe(Effect.scoped, Effect.provide(nodeLayer)),
    { timeout: 60_000 + ROUNDS * 3_000 }
  )

  it.live("a live owner in another process: LockedError naming it; once it is SIGKILLed, open succeeds", () =>
    Effect.gen(function* () {
      const dir = join(yield* tempDir, "wal")
      const holder = yield* readyLockChild(["hold", dir])
      const error = yield* Effect.flip(WalHandle.open({ dir }))
      assert.instanceOf(error, LockedError)
      assert.strictEqual(error.ownerPid, holder.pid)
      assert.include(error.message, dir)
      assert.match(yield* openFromChild(dir), /^locked /)
      yield* holder.child.kill
      yield* Effect.scoped(WalHandle.open({ dir }))
      assert.match(yield* openFromChild(dir), /^opened /)
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("a live owner whose LOCK names this very process (pid reuse across namespaces) is still live", () =>
    Effect.gen(function* () {
      const dir = join(yield* tempDir, "wal")
      // The holder rewrites LOCK to name our pid on our host: what a pid-1 process in another PID
      // namespace looks like to a pid-1 opener. The live lock must not be mistaken for our own.
      yield* readyLockChild(["hold", dir, String(process.pid)])
      assert.instanceOf(yield* Effect.flip(WalHandle.open({ dir })), LockedError)
      assert.match(yield* openFromChild(dir), /^locked /)
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live.skipIf(!pidNamespacesAvailable())(
    "two processes that are each pid 1 of their own PID namespace: the second gets LockedError",
    () =>
      Effect.gen(function* () {
        const dir = join(yield* tempDir, "wal")
        const first = yield* readyLockChild(["hold", dir], { ownPidNamespace: true })
        assert.strictEqual(first.pid, 1)
        const second = yield* Effect.acquireRelease(
          spawnLockChild(["open", dir], { ownPidNamespace: true }),
          (child) => child.kill
        )
        const answer = yield* second.line("")
        assert.match(answer, /^locked /, answer)
        yield* first.child.kill
        const third = yield* Effect.acquireRelease(
          spawnLockChild(["open", dir], { ownPidNamespace: true }),
          (child) => child.kill
        )
        assert.strictEqual(yield* third.line(""), "opened 1")
      }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})

/** A racer, killed when the test's scope closes even if the test fails. */
const spawnRacer = (dir: string) => Effect.map(readyLockChild(["racer", dir]), ({ child }) => child)
