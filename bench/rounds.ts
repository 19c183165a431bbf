/**
 * Alternating rounds: every case (and, for the A/B harness, every side) once per round, each run
 * in a fresh child process (bench/caseWorker.ts) on a fresh directory, over N rounds. A ratio is
 * taken within a round — between runs minutes apart at most — and the report gives the median of
 * the rounds, so drift on a shared machine moves both sides of a ratio alike.
 *
 * Odd rounds run the cases, and the sides of each case, in reverse order, so that neither side of
 * a ratio always runs first (after a quiet spell) or last (after a busy one).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { rmSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { type CaseId, type CaseResult, type CaseTiming, cases, isCaseId } from "./cases.ts"

const WORKER = fileURLToPath(new URL("./caseWorker.ts", import.meta.url))

/** A library to drive the WAL cases with: `libPath` undefined is this working tree's `src/index.ts`. */
export interface Side {
  readonly name: string
  readonly libPath: string | undefined
}

export interface RoundsOptions {
  readonly caseIds: ReadonlyArray<CaseId>
  readonly sides: ReadonlyArray<Side>
  readonly rounds: number
  readonly timing: CaseTiming
  /** Each run writes in a fresh directory under this one, removed after the run. */
  readonly dataDir: string
  readonly progress?: ((line: string) => void) | undefined
}

export interface CaseRun {
  readonly side: string
  readonly round: number
  readonly result: CaseResult
}

const isCaseResult = (value: unknown): value is CaseResult => {
  if (typeof value !== "object" || value === null) return false
  return (
    "id" in value &&
    typeof value.id === "string" &&
    isCaseId(value.id) &&
    "eventsPerSecond" in value &&
    typeof value.eventsPerSecond === "number" &&
    "cpuMicrosPerEvent" in value &&
    typeof value.cpuMicrosPerEvent === "number"
  )
}

/** The child running now, so that a signal handler can stop it before cleaning up. */
let runningChild: ChildProcess | undefined

/** Stops the running child, if any, and resolves once it has exited. */
export const stopRunningChild = (): Promise<void> =>
  new Promise((resolve) => {
    const child = runningChild
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once("exit", () => resolve())
    child.kill("SIGTERM")
  })

/** Runs one case in a child process; fails with the child's exit if it did not print a result. */
export const runCaseInChild = async (
  caseId: CaseId,
  side: Side,
  timing: CaseTiming,
  dir: string
): Promise<CaseResult> => {
  const args = [WORKER, "--case", caseId, "--dir", dir]
  args.push("--warmup", String(timing.warmupSeconds), "--seconds", String(timing.seconds))
  if (side.libPath !== undefined) args.push("--lib", side.libPath)
  try {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] })
    runningChild = child
    let stdout = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk
    })
    const [code, signal] = await once(child, "close")
    const lastLine = stdout.trim().split("\n").at(-1) ?? ""
    const parsed: unknown = code === 0 ? JSON.parse(lastLine) : undefined
    if (!isCaseResult(parsed)) {
      throw new Error(
        `case ${caseId} on ${side.name} failed (${signal ?? `exit ${code}`}): ${lastLine || "no output"}`
      )
    }
    return parsed
  } finally {
    runningChild = undefined
    rmSync(dir, { recursive: true, force: true })
  }
}

export const runRounds = async (options: RoundsOptions): Promise<Array<CaseRun>> => {
  const runs: Array<CaseRun> = []
  let n = 0
  for (let round = 0; round < options.rounds; round++) {
    const reversed = round % 2 === 1
    const caseIds = reversed ? [...options.caseIds].reverse() : options.caseIds
    const sides = reversed ? [...options.sides].reverse() : options.sides
    for (const caseId of caseIds) {
      for (const side of sides) {
        const result = await runCaseInChild(caseId, side, options.timing, join(options.dataDir, `run-${n++}`))
        runs.push({ side: side.name, round, result })
        const sideNote = options.sides.length > 1 ? ` [${side.name}]` : ""
        options.progress?.(
          `  round ${round + 1}/${options.rounds} ${cases[caseId].label}${sideNote}: ` +
            `${fmt(result.eventsPerSecond)} ev/s, ${fmt(result.cpuMicrosPerEvent, 2)} µs CPU/ev`
        )
      }
    }
  }
  return runs
}

/** The results of one case on one side, by round. */
export const resultsOf = (runs: ReadonlyArray<CaseRun>, caseId: CaseId, side: string): Array<CaseResult> =>
  runs.filter((run) => run.result.id === caseId && run.side === side).map((run) => run.result)

/** Per round, `metric` of the numerator's run over the denominator's (both lists by round). */
export const roundRatios = (
  numerators: ReadonlyArray<CaseResult>,
  denominators: ReadonlyArray<CaseResult>,
  metric: (result: CaseResult) => number
): Array<number> =>
  numerators.flatMap((numerator, round) => {
    const denominator = denominators[round]
    return denominator === undefined ? [] : [metric(numerator) / metric(denominator)]
  })

export interface Spread {
  readonly median: number
  readonly min: number
  readonly max: number
}

export const spread = (values: ReadonlyArray<number>): Spread => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  const median =
    sorted.length % 2 === 1
      ? (sorted[middle] ?? Number.NaN)
      : ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2
  return { median, min: sorted[0] ?? Number.NaN, max: sorted.at(-1) ?? Number.NaN }
}

/** The median of `metric` over `results`, skipping results that lack it. */
export const medianOf = (
  results: ReadonlyArray<CaseResult>,
  metric: (result: CaseResult) => number | undefined
): number | undefined => {
  const values = results.flatMap((result) => {
    const value = metric(result)
    return value === undefined ? [] : [value]
  })
  return values.length === 0 ? undefined : spread(values).median
}

export const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined || Number.isNaN(n)
    ? "—"
    : n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
