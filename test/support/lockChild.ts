/**
 * A child process for the lock tests (test/lock): opens a WAL directory on command and reports
 * each outcome as one stdout line. Uses only the public API, so the same tests run against any
 * version of the lock.
 *
 * - `hold DIR [FORGED_PID]`: opens and keeps the WAL open until killed; prints `ready PID`. With
 *   FORGED_PID, then rewrites `LOCK` to name that pid on this host, as a process in another PID
 *   namespace with the same pid would (the record must not decide anything).
 * - `open DIR`: one open, then exits: `opened PID`, `locked OWNER_PID MESSAGE` or `error TAG MESSAGE`.
 * - `probe DIR`: per stdin line `probe N`, opens and closes at once: `probe N free`, `probe N locked …`
 *   or `probe N error …`.
 * - `racer DIR`: per stdin line `go ROUND DELAY_MICROS HOLD_MILLIS KEEP ID`, waits DELAY_MICROS,
 *   then opens. A holder creates `holding` with O_EXCL (`double ROUND` if it exists: two holders at
 *   once), appends `eventFor(ID)`, then either keeps the WAL open until killed (KEEP 1: a dead
 *   owner's lock for the next round) or holds it HOLD_MILLIS, removes `holding` and closes; then it
 *   prints `won ROUND SEQ ID`. A loser prints `locked ROUND`.
 *
 * Every line is written synchronously, so what the parent read happened before any kill.
 */
import { closeSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs"
import { hostname } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { NodeServices } from "@effect/platform-node"
import { Cause, Effect, Exit, Scope } from "effect"
import { LockedError, WalHandle } from "../../src/index.ts"
import { encodeOwnerRecord } from "../../src/internal/fs/lockOwnerRecord.ts"
import { eventFor } from "./wal.ts"

type Wal = (typeof WalHandle)["Service"]

const [mode = "", dir = "", extra] = process.argv.slice(2)
const say = (text: string): void => {
  writeSync(1, `${text}\n`)
}
const oneLine = (text: string) => text.replaceAll("\n", " ")

/** Opens `dir` in a scope that is never closed: the WAL stays open until the process dies. */
const openAndKeep = (onOpen: (wal: Wal) => void): Promise<Exit.Exit<void, unknown>> =>
  Effect.runPromiseExit(
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const [wal] = yield* WalHandle.open({ dir }).pipe(Scope.provide(scope))
      onOpen(wal)
    }).pipe(Effect.provide(NodeServices.layer))
  )

/** `locked OWNER_PID MESSAGE` or `error TAG MESSAGE` for a failed open. */
const describeFailure = (exit: Exit.Exit<unknown, unknown>): string => {
  if (Exit.isSuccess(exit)) return "opened"
  const error = Cause.squash(exit.cause)
  if (error instanceof LockedError) return `locked ${error.ownerPid} ${oneLine(error.message)}`
  const tag = typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : "Defect"
  return `error ${tag} ${oneLine(error instanceof Error ? error.message : String(error))}`
}

const keepAlive = () => setInterval(() => {}, 1 << 30)

const hold = async () => {
  const exit = await openAndKeep(() => {})
  if (Exit.isFailure(exit)) {
    say(describeFailure(exit))
    process.exit(1)
  }
  if (extra !== undefined) {
    const forged = {
      pid: Number(extra),
      host: hostname(),
      instance: "forged",
      sinceIso: new Date().toISOString()
    }
    writeFileSync(join(dir, "LOCK"), `${encodeOwnerRecord(forged)}`)
  }
  say(`ready ${process.pid}`)
  keepAlive()
}

const openOnce = async () => {
  const exit = await openAndKeep(() => {})
  say(Exit.isSuccess(exit) ? `opened ${process.pid}` : describeFailure(exit))
  process.exit(0)
}

const probe = async (n: string) => {
  const exit = await Effect.runPromiseExit(
    Effect.scoped(WalHandle.open({ dir })).pipe(Effect.provide(NodeServices.layer))
  )
  say(`probe ${n} ${Exit.isSuccess(exit) ? "free" : describeFailure(exit)}`)
}

const spinMicros = (micros: number) => {
  const until = process.hrtime.bigint() + BigInt(micros) * 1000n
  while (process.hrtime.bigint() < until) {
    // A busy wait: a timer would round the delay up to a millisecond.
  }
}

const race = async (round: string, delayMicros: number, holdMillis: number, keep: boolean, id: number) => {
  spinMicros(delayMicros)
  let wal: Wal | undefined
  let scope: Scope.Closeable | undefined
  const exit = await Effect.runPromiseExit(
    Effect.gen(function* () {
      scope = yield* Scope.make()
      ;[wal] = yield* WalHandle.open({ dir }).pipe(Scope.provide(scope))
    }).pipe(Effect.provide(NodeServices.layer))
  )
  if (wal === undefined || scope === undefined) {
    const outcome = describeFailure(exit)
    return say(outcome.startsWith("locked") ? `locked ${round}` : `error ${round} ${outcome}`)
  }
  const marker = join(dir, "holding")
  try {
    closeSync(openSync(marker, "wx"))
  } catch {
    return say(`double ${round}`)
  }
  const seq = await Effect.runPromise(wal.append(eventFor(id)))
  if (keep) return say(`won ${round} ${seq} ${id}`)
  await new Promise((resolve) => setTimeout(resolve, holdMillis))
  rmSync(marker)
  await Effect.runPromise(Scope.close(scope, Exit.void))
  say(`won ${round} ${seq} ${id}`)
}

const serveStdin = (handle: (words: ReadonlyArray<string>) => Promise<void>) => {
  let chain = Promise.resolve()
  createInterface({ input: process.stdin }).on("line", (line) => {
    chain = chain.then(() => handle(line.split(" ")))
  })
  say(`ready ${process.pid}`)
}

if (mode === "hold") void hold()
else if (mode === "open") void openOnce()
else if (mode === "probe") serveStdin(([, n = "0"]) => probe(n))
else if (mode === "racer") {
  serveStdin(([, round = "0", delay = "0", hold = "0", keep = "0", id = "0"]) =>
    race(round, Number(delay), Number(hold), keep === "1", Number(id))
  )
} else {
  say(`error Usage unknown mode ${mode}`)
  process.exit(2)
}
