/**
 * SPEC §3 "Open, recovery and replay", proven by real crashes: a child process appends from 200
 * concurrent fibers and reports every acknowledged sequence number; the parent SIGKILLs it at a
 * random moment and reopens. Every acknowledged event must be there with identical fields, the
 * sequence contiguous from 1, and the next append must continue it. All rounds share one
 * directory, so each recovery also starts from the previous crash's leftovers (torn tails, a dead
 * owner's LOCK). After each crash the last acknowledged event is appended again, as a retrying
 * client would: the dedup window, seeded from disk, answers 0n. TIDAL_WAL_CRASH_ROUNDS raises the
 * count for soak runs. The kill moments come from a printed seed; TIDAL_WAL_CRASH_SEED reruns them
 * (the child's progress by then still depends on the machine).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { LockedError, WalHandle } from "../../src/index.ts"
import { sigkill, spawnChild } from "../support/child.ts"
import { eventFor, nodeLayer, plainEvent, seededRng, storedFor, tempDir } from "../support/wal.ts"

const ROUNDS = Number(process.env.TIDAL_WAL_CRASH_ROUNDS ?? 20)
const rng = seededRng("TIDAL_WAL_CRASH_SEED", "SIGKILL rounds")

describe("real crashes (SIGKILL)", () => {
  it.live(
    `${ROUNDS} kill/reopen rounds on one directory lose no acknowledged event (seed ${rng.seed})`,
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const acked = new Map<bigint, number>()
        let lastSeqSeen = 0n
        for (let round = 1; round <= ROUNDS; round++) {
          const child = spawnChild([dir, "append", String(round), "200"])
          yield* Effect.promise(() => child.ready)
          yield* Effect.sleep(`${rng.int(20, 219)} millis`)
          yield* Effect.promise(() => sigkill(child))
          let lastAckedThisRound: number | undefined
          for (const line of child.lines) {
            const [kind, seqText, indexText] = line.split(" ")
            if (kind !== "ack" || seqText === undefined || indexText === undefined) continue
            acked.set(BigInt(seqText), Number(indexText))
            lastAckedThisRound = Number(indexText)
          }
          const next = yield* Effect.scoped(
            Effect.gen(function* () {
              const [wal, replayed] = yield* WalHandle.open({ dir, segmentMaxBytes: 8192 })
              // Contiguous from 1: replay starts at 1 and holds exactly lastSeq events.
              assert.strictEqual(replayed.firstSeq, 1n)
              assert.strictEqual(BigInt(replayed.length), wal.recovery.lastSeq)
              assert.isTrue(wal.recovery.lastSeq >= lastSeqSeen, "the log never shrinks")
              for (const [seq, i] of acked) {
                const event = replayed.at(Number(seq - 1n))
                assert.isDefined(event, `acknowledged seq ${seq} missing after round ${round}`)
                assert.strictEqual(event?.seq, seq)
                assert.deepStrictEqual(event && plainEvent(event), storedFor(i))
              }
              // A client retrying an acknowledged append after the crash does not write it twice.
              if (lastAckedThisRound !== undefined) {
                assert.strictEqual(yield* wal.append(eventFor(lastAckedThisRound)), 0n)
              }
              const seq = yield* wal.append(eventFor(round * 1_000_000 + 999_999))
              assert.strictEqual(seq, wal.recovery.lastSeq + 1n)
              acked.set(seq, round * 1_000_000 + 999_999)
              return seq
            })
          )
          lastSeqSeen = next
        }
        assert.isAbove(acked.size, ROUNDS * 10, "the children acknowledged appends before being killed")
      }).pipe(Effect.scoped, Effect.provide(nodeLayer)),
    { timeout: 30_000 + ROUNDS * 3_000 }
  )

  it.live(
    "a second open fails with LockedError while the owner lives: same process and another process",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        yield* Effect.scoped(
          Effect.gen(function* () {
            yield* WalHandle.open({ dir })
            const error = yield* Effect.flip(WalHandle.open({ dir }))
            assert.instanceOf(error, LockedError)
            assert.include(error.message, dir)
          })
        )
        const child = spawnChild([dir, "hold"])
        yield* Effect.promise(() => child.ready)
        const error = yield* Effect.flip(WalHandle.open({ dir }))
        assert.instanceOf(error, LockedError)
        if (error instanceof LockedError) assert.strictEqual(error.ownerPid, child.process.pid)
        yield* Effect.promise(() => sigkill(child))
        // The owner is dead: its lock is taken over.
        const [wal] = yield* WalHandle.open({ dir })
        assert.strictEqual(yield* wal.nextSeq, 1n)
      }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})
