/**
 * Runs one side-by-side case in this process and prints its `CaseResult` as one JSON line:
 *
 *   node bench/caseWorker.ts --case appendAll100 --dir /path/to/fresh/dir \
 *     [--warmup 1] [--seconds 2] [--lib /other/checkout/src/index.ts]
 *
 * bench/rounds.ts starts one of these per case per round; run it by hand to try a case alone
 * (`--case sqliteBlob` and the `…NoDedup` cases of bench/bounds.ts are in no default run). `--lib` points the WAL cases at
 * another checkout's library (the A/B harness); by default they drive this working tree's. The
 * peers (bench/peerCases.ts, which use this working tree's codec) are imported only when run, so
 * a WAL case loads no library code but the one it drives. `--dir` is where the case writes; it is
 * left for the caller to remove.
 */
import { mkdirSync } from "node:fs"
import { resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { parseArgs } from "node:util"
import { NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import { type CaseResult, type CaseSpec, type CaseTiming, cases, isCaseId } from "./cases.ts"
import { measureWalCase, type WalLibrary, workingTreeLibrary } from "./walCase.ts"

const isWalLibrary = (module: unknown): module is WalLibrary => {
  if (typeof module !== "object" || module === null || !("WalHandle" in module)) return false
  const handle: unknown = module.WalHandle
  return typeof handle === "function" && "open" in handle && typeof handle.open === "function"
}

const loadLibrary = async (libPath: string | undefined): Promise<WalLibrary> => {
  if (libPath === undefined) return workingTreeLibrary(await import("../src/index.ts"))
  const module: unknown = await import(pathToFileURL(resolve(libPath)).href)
  if (!isWalLibrary(module)) throw new Error(`${libPath} does not export WalHandle.open`)
  return module
}

const runCase = async (
  spec: CaseSpec,
  dir: string,
  timing: CaseTiming,
  libPath: string | undefined
): Promise<Omit<CaseResult, "id">> => {
  switch (spec.kind) {
    case "wal": {
      const library = await loadLibrary(libPath)
      const load = {
        callers: spec.callers,
        eventsPerCall: spec.eventsPerCall,
        withoutDedup: "withoutDedup" in spec && spec.withoutDedup
      }
      return Effect.runPromise(
        measureWalCase(library, dir, load, timing).pipe(Effect.scoped, Effect.provide(NodeServices.layer))
      )
    }
    case "sqlite": {
      mkdirSync(dir, { recursive: true })
      const { measureSqlite } = await import("./peerCases.ts")
      return measureSqlite(dir, spec.row, timing)
    }
    case "raw": {
      mkdirSync(dir, { recursive: true })
      const { measureRawPipelined, measureRawSerial } = await import("./peerCases.ts")
      return spec.depth === 1 ? measureRawSerial(dir, timing) : measureRawPipelined(dir, spec.depth, timing)
    }
  }
}

const { values } = parseArgs({
  options: {
    case: { type: "string" },
    dir: { type: "string" },
    warmup: { type: "string", default: "1" },
    seconds: { type: "string", default: "2" },
    lib: { type: "string" }
  }
})
const caseId = values.case ?? ""
if (!isCaseId(caseId) || values.dir === undefined) {
  throw new Error(`usage: caseWorker.ts --case <${Object.keys(cases).join("|")}> --dir <dir> …`)
}
const timing = { warmupSeconds: Number(values.warmup), seconds: Number(values.seconds) }
if (!(timing.warmupSeconds >= 0 && timing.seconds > 0)) throw new Error("--warmup ≥ 0 and --seconds > 0")
const result: CaseResult = { id: caseId, ...(await runCase(cases[caseId], values.dir, timing, values.lib)) }
process.stdout.write(`${JSON.stringify(result)}\n`)
