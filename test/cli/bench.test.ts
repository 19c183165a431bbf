/**
 * Issue #14 item 9: `bench` shows its progress during the WAL phase when stderr is a terminal,
 * and writes nothing but its result lines when it is not (a pipe, a file, this test). The
 * progress line is rendered by a pure function and drawn by `progress`, tested here as units;
 * then bench runs in-process for a second per phase, once without a terminal and once with one.
 *
 * Issue #13: the measuring code bench uses (`measure.ts`) is bench code, no part of the library;
 * it lives in src/cli, and no module of the library imports anything from src/cli.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join, relative, sep } from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem } from "effect"
import { renderWalProgress } from "../../src/cli/bench.ts"
import {
  CLEAR_LINE,
  clearProgress,
  type Output,
  Output as OutputService,
  progress
} from "../../src/cli/output.ts"
import { runCaptured } from "../support/cliRun.ts"
import { nodeLayer, tempDir } from "../support/wal.ts"

/** What bench prints on stdout, terminal or not: four lines, no control characters. */
const RESULT_LINES = [
  /^writers: 8, 1 s each, Node v\d+\.\d+\.\d+$/,
  /^WAL: [\d,]+ acked events\/s, [\d,]+ batches\/s, mean batch [\d.]+, ack p50 [\d.]+ ms, p99 [\d.]+ ms$/,
  /^raw write\+sync loop at \d+ events per sync: [\d,]+ events\/s$/,
  /^WAL ÷ raw: [\d.]+$/
]

const assertResultLines = (stdout: string) => {
  const lines = stdout.split("\n")
  assert.strictEqual(lines.pop(), "", "stdout ends with a newline")
  assert.strictEqual(lines.length, RESULT_LINES.length, stdout)
  for (const [i, text] of lines.entries()) assert.match(text, RESULT_LINES[i] ?? /^$/)
}

const recorded = (stderrIsTerminal: boolean) => {
  const written = { stdout: "", stderr: "" }
  const output: Output = {
    stdout: (text) =>
      Effect.sync(() => {
        written.stdout += text
      }),
    stderr: (text) =>
      Effect.sync(() => {
        written.stderr += text
      }),
    stdoutIsTerminal: false,
    stderrIsTerminal
  }
  return { written, output }
}

describe("the progress line", () => {
  it("renders acknowledged events, their rate and the time against the total", () => {
    assert.strictEqual(
      renderWalProgress({ acked: 12_345, elapsedMillis: 1_500 }, 3),
      "WAL: 12,345 acknowledged (8,230/s), 1.5 of 3 s"
    )
    assert.strictEqual(
      renderWalProgress({ acked: 0, elapsedMillis: 0 }, 3),
      "WAL: 0 acknowledged (0/s), 0.0 of 3 s"
    )
    // A report that lands just after the deadline does not claim more time than was asked for.
    assert.strictEqual(
      renderWalProgress({ acked: 3_003, elapsedMillis: 3_003 }, 3),
      "WAL: 3,003 acknowledged (1,000/s), 3.0 of 3 s"
    )
  })

  it.effect("is drawn in place on stderr when it is a terminal, and not at all otherwise", () =>
    Effect.gen(function* () {
      const terminal = recorded(true)
      yield* Effect.andThen(progress("one"), progress("two")).pipe(
        Effect.andThen(clearProgress),
        Effect.provideService(OutputService, terminal.output)
      )
      assert.strictEqual(terminal.written.stderr, `${CLEAR_LINE}one${CLEAR_LINE}two${CLEAR_LINE}`)
      assert.strictEqual(terminal.written.stdout, "")
      const piped = recorded(false)
      yield* Effect.andThen(progress("one"), clearProgress).pipe(
        Effect.provideService(OutputService, piped.output)
      )
      assert.deepStrictEqual(piped.written, { stdout: "", stderr: "" })
    })
  )
})

describe("tidal-wal bench", () => {
  it.live("without a terminal writes only its result lines, and removes its scratch directory", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const parent = yield* tempDir
      const result = yield* runCaptured({}, "bench", "--writers", "8", "--seconds", "1", "--dir", parent)
      assert.strictEqual(result.code, 0, result.stderr)
      assert.strictEqual(result.stderr, "")
      assertResultLines(result.stdout)
      assert.deepStrictEqual(yield* fs.readDirectory(parent), [])
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("on a terminal redraws a progress line on stderr through the WAL phase, then clears it", () =>
    Effect.gen(function* () {
      const parent = yield* tempDir
      const result = yield* runCaptured(
        { stdoutIsTerminal: true, stderrIsTerminal: true },
        "bench",
        ...["--writers", "8", "--seconds", "1", "--dir", parent]
      )
      assert.strictEqual(result.code, 0, result.stderr)
      assertResultLines(result.stdout)
      const frames = result.stderr.split(CLEAR_LINE)
      assert.strictEqual(frames.shift(), "", "every frame starts by clearing the line")
      assert.strictEqual(frames.pop(), "", "the last thing written clears the line")
      const walFrames = frames.filter((f) => f.startsWith("WAL: "))
      // About one frame every 250 ms of the 1 s measured; a loaded machine may draw fewer.
      assert.isAtLeast(walFrames.length, 2, result.stderr)
      for (const frame of walFrames)
        assert.match(frame, /^WAL: [\d,]+ acknowledged \([\d,]+\/s\), [01]\.\d of 1 s$/)
      assert.match(frames.at(-1) ?? "", /^raw write\+sync loop at \d+ events per sync for 1 s…$/)
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})

const srcDir = fileURLToPath(new URL("../../src/", import.meta.url))

/** Every import or re-export specifier in `source` (static and dynamic). */
const specifiers = (source: string): ReadonlyArray<string> =>
  [...source.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']/g)].map((m) => m[1] ?? "")

describe("the library's boundary", () => {
  it("no module outside src/cli imports from src/cli, and measure.ts lives there", () => {
    const files = readdirSync(srcDir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"))
    assert.include(files, join("cli", "measure.ts"))
    assert.notInclude(files, join("internal", "measure.ts"))
    const library = files.filter((f) => !f.startsWith(`cli${sep}`))
    assert.isAbove(library.length, 10)
    for (const file of library) {
      const from = join(srcDir, file)
      for (const specifier of specifiers(readFileSync(from, "utf8"))) {
        if (!specifier.startsWith(".")) continue
        const target = relative(srcDir, join(from, "..", specifier))
        assert.isFalse(target.startsWith(`cli${sep}`), `src/${file} imports ${specifier}`)
      }
    }
  })
})
