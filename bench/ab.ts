/**
 * A/B harness: the WAL's throughput cases against two versions of the library, alternated in one
 * run, to show what a change costs or saves (a refactor: ≤ 5 %; a speed-up: by how much).
 *
 *   node bench/ab.ts <refA> [<refB>] [--rounds 5] [--seconds 2] [--warmup 1]
 *                    [--cases appendAll100,append1000,append100] [--data-dir DIR] [--json FILE]
 *
 * - A and B are git refs (commit, branch, tag, `HEAD~3`); B left out is this working tree as it is
 *   when the harness starts (`src/` and `package.json` copied, uncommitted changes included).
 * - Each side is a checkout of `src/` and `package.json` only, unpacked with `git archive` into a
 *   directory under the system temp dir, its `node_modules` a symlink to this repository's. `git
 *   archive` rather than `git worktree add`: it reads the repository and writes nothing into it,
 *   so even a run killed with SIGKILL leaves no worktree registered in `.git`. The temp directory
 *   is removed on exit, on an error and on SIGINT/SIGTERM/SIGHUP; this working tree is never
 *   written (the cases write under `--data-dir`, by default in the same temp directory).
 * - The bench code is this working tree's (bench/caseWorker.ts and the cases it runs); only the
 *   library differs: each WAL case loads `<side>/src/index.ts` and drives it through the public
 *   API. So old refs run the current cases, wherever their internals (measure.ts, …) lived.
 * - Each round runs every case on both sides back to back, in a fresh process each, the order
 *   reversed every other round. B ÷ A is taken within each round; the report gives its median and
 *   range over the rounds, and each side's medians.
 * - BENCH_QUICK=1: 2 rounds of 0.3 s + 0.5 s (a smoke check; its figures are not results).
 *
 * The cases write and fsync for real: put `--data-dir` on the disk you care about (the default
 * temp dir is refused when it is a tmpfs, where fsync costs nothing). On a shared machine, run it
 * when nothing else is busy.
 */
import { execFileSync } from "node:child_process"
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statfsSync,
  symlinkSync,
  writeFileSync
} from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { type CaseId, type CaseTiming, cases, isCaseId, walCaseIds } from "./cases.ts"
import {
  type CaseRun,
  fmt,
  medianOf,
  resultsOf,
  roundRatios,
  runRounds,
  type Side,
  spread,
  stopRunningChild
} from "./rounds.ts"

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const TMPFS_MAGIC = 0x01021994

const git = (...args: ReadonlyArray<string>): string =>
  execFileSync("git", ["--no-optional-locks", ...args], { cwd: REPO, encoding: "utf8" }).trim()

interface Checkout {
  readonly side: Side
  /** What the side is, for the report: the ref and its commit, or the working tree's state. */
  readonly description: string
}

/** Unpacks `src/` and `package.json` of `ref` into `dir` (git archive: nothing written to the repository). */
const checkoutRef = (name: string, ref: string, dir: string): Checkout => {
  const commit = git("rev-parse", "--verify", "--end-of-options", `${ref}^{commit}`)
  mkdirSync(dir, { recursive: true })
  const tar = join(dir, "..", `${name}.tar`)
  git("archive", "--format=tar", "-o", tar, commit, "src", "package.json")
  execFileSync("tar", ["-xf", tar, "-C", dir])
  rmSync(tar)
  symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"), "dir")
  const subject = git("log", "-1", "--format=%s", commit)
  return {
    side: { name, libPath: join(dir, "src", "index.ts") },
    description: `${ref} = ${commit.slice(0, 10)} "${subject}"`
  }
}

/** Copies this working tree's `src/` and `package.json` into `dir`, so edits during the run do not leak in. */
const snapshotWorkingTree = (name: string, dir: string): Checkout => {
  mkdirSync(dir, { recursive: true })
  cpSync(join(REPO, "src"), join(dir, "src"), { recursive: true })
  copyFileSync(join(REPO, "package.json"), join(dir, "package.json"))
  symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"), "dir")
  const changed = git("status", "--porcelain", "--", "src", "package.json")
  const changes = changed === "" ? "no uncommitted changes" : `${changed.split("\n").length} changed paths`
  return {
    side: { name, libPath: join(dir, "src", "index.ts") },
    description: `working tree (HEAD ${git("rev-parse", "--short=10", "HEAD")} + ${changes} in src/, package.json)`
  }
}

/** The temp directory and its removal on every way out. */
const makeScratch = (): string => {
  const scratch = mkdtempSync(join(tmpdir(), "tidal-wal-ab-"))
  const remove = () => rmSync(scratch, { recursive: true, force: true })
  process.on("exit", remove)
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
    ["SIGHUP", 129]
  ] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping the running case and removing ${scratch}\n`)
      void stopRunningChild().finally(() => process.exit(code))
    })
  }
  return scratch
}

const parseOptions = () => {
  const quick = process.env.BENCH_QUICK === "1"
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      rounds: { type: "string", default: quick ? "2" : "5" },
      seconds: { type: "string", default: quick ? "0.5" : "2" },
      warmup: { type: "string", default: quick ? "0.3" : "1" },
      cases: { type: "string", default: walCaseIds.join(",") },
      "data-dir": { type: "string" },
      json: { type: "string" }
    }
  })
  const [refA, refB] = positionals
  const caseIds = values.cases.split(",").filter((id) => id !== "")
  const unknown = caseIds.filter((id) => !isCaseId(id))
  const rounds = Number(values.rounds)
  const timing: CaseTiming = { warmupSeconds: Number(values.warmup), seconds: Number(values.seconds) }
  if (refA === undefined || positionals.length > 2 || unknown.length > 0 || !(rounds >= 1)) {
    const known = Object.keys(cases).join(", ")
    throw new Error(
      `usage: node bench/ab.ts <refA> [<refB>] [--rounds N] [--seconds S] [--warmup S] [--cases ids] ` +
        `[--data-dir DIR] [--json FILE]${unknown.length > 0 ? `; unknown cases ${unknown.join(", ")} (known: ${known})` : ""}`
    )
  }
  if (!(timing.warmupSeconds >= 0 && timing.seconds > 0)) throw new Error("--warmup ≥ 0 and --seconds > 0")
  return {
    refA,
    refB,
    caseIds: caseIds.filter(isCaseId),
    rounds: Math.round(rounds),
    timing,
    dataDir: values["data-dir"],
    json: values.json,
    quick
  }
}

/** A data directory where fsync means something: refuses a tmpfs. */
const prepareDataDir = (requested: string | undefined, scratch: string): string => {
  if (requested !== undefined) {
    const dir = mkdtempSync(join(resolve(requested), "tidal-wal-ab-data-"))
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }))
    return dir
  }
  if (statfsSync(scratch).type === TMPFS_MAGIC) {
    throw new Error(`${tmpdir()} is a tmpfs (fsync is free there): pass --data-dir on a real disk`)
  }
  return join(scratch, "data")
}

const report = (runs: ReadonlyArray<CaseRun>, caseIds: ReadonlyArray<CaseId>): Array<string> => {
  const lines = [
    "| case | A ev/s | B ev/s | **B ÷ A ev/s** | min–max | A CPU µs/ev | B CPU µs/ev | **B ÷ A CPU** | min–max | JS thread µs/ev A → B | p99 ms A → B |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  ]
  for (const caseId of caseIds) {
    const a = resultsOf(runs, caseId, "A")
    const b = resultsOf(runs, caseId, "B")
    const rate = spread(roundRatios(b, a, (r) => r.eventsPerSecond))
    const cpu = spread(roundRatios(b, a, (r) => r.cpuMicrosPerEvent))
    const median = (
      results: typeof a,
      metric: (r: (typeof a)[number]) => number | undefined,
      digits: number
    ) => fmt(medianOf(results, metric), digits)
    lines.push(
      `| ${cases[caseId].label} | ${median(a, (r) => r.eventsPerSecond, 0)} | ${median(b, (r) => r.eventsPerSecond, 0)} ` +
        `| **${fmt(rate.median, 3)}** | ${fmt(rate.min, 3)}–${fmt(rate.max, 3)} ` +
        `| ${median(a, (r) => r.cpuMicrosPerEvent, 2)} | ${median(b, (r) => r.cpuMicrosPerEvent, 2)} ` +
        `| **${fmt(cpu.median, 3)}** | ${fmt(cpu.min, 3)}–${fmt(cpu.max, 3)} ` +
        `| ${median(a, (r) => r.threadCpuMicrosPerEvent, 2)} → ${median(b, (r) => r.threadCpuMicrosPerEvent, 2)} ` +
        `| ${median(a, (r) => r.latencyP99Millis, 1)} → ${median(b, (r) => r.latencyP99Millis, 1)} |`
    )
  }
  return lines
}

const main = async () => {
  const options = parseOptions()
  const scratch = makeScratch()
  const a = checkoutRef("A", options.refA, join(scratch, "A"))
  const b =
    options.refB === undefined
      ? snapshotWorkingTree("B", join(scratch, "B"))
      : checkoutRef("B", options.refB, join(scratch, "B"))
  const dataDir = prepareDataDir(options.dataDir, scratch)
  process.stderr.write(`A: ${a.description}\nB: ${b.description}\n`)
  const runs = await runRounds({
    caseIds: options.caseIds,
    sides: [a.side, b.side],
    rounds: options.rounds,
    timing: options.timing,
    dataDir,
    progress: (line) => process.stderr.write(`${line}\n`)
  })
  if (options.json !== undefined) writeFileSync(options.json, JSON.stringify(runs, null, 2))
  const lines = [
    `tidal-wal A/B — Node ${process.version}, ${options.rounds} rounds, ` +
      `${options.timing.warmupSeconds} s warm-up + ${options.timing.seconds} s a run`,
    ...(options.quick
      ? ["QUICK MODE: a smoke check that the harness runs; its figures are not results"]
      : []),
    `A: ${a.description}`,
    `B: ${b.description}`,
    "",
    ...report(runs, options.caseIds),
    "",
    "B ÷ A is taken within each round (median, min–max over rounds). A refactor that costs ≤ 5 %:",
    "B ÷ A ev/s ≥ 0.95 and B ÷ A CPU ≤ 1.05. CPU is the whole process (user + system) per acked event."
  ]
  for (const line of lines) console.log(line)
}

try {
  await main()
} catch (error) {
  // A usage error or a failed case: its message, not a stack; the exit handler still cleans up.
  process.stderr.write(`bench/ab.ts: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
}
