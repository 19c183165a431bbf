/**
 * The one smoke test of the real `tidal-wal` bin in a child process; everything finer about the
 * command line runs in-process in the other files here.
 *
 * It runs the bin from a package laid out as `npm pack` ships it — bin/, a freshly compiled dist/
 * and package.json — in a temp directory, so it neither needs nor touches the checkout's own
 * (gitignored) dist/. The source is left out, so the bin can only run the compiled code. The
 * package.json there carries a version of its own, so `--version` shows that the version is read
 * from the package, not written into the code, and found from dist/cli as it is from src/cli.
 * Then a check of a torn log shows that the exit status and the message reach the shell: 1, file
 * and offset on stderr, no stack trace.
 */
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem, Path } from "effect"
import { type CliRun, runNode } from "../support/cliRun.ts"
import { buildLog, segmentPaths } from "../support/logs.ts"
import { nodeLayer, tempDir } from "../support/wal.ts"

const packageRoot = fileURLToPath(new URL("../../", import.meta.url))
const BATCH_BYTES = 64 + 5 * 21

/** A package directory as npm would install it, with `version` in its package.json. */
const packedPackage = (version: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const root = yield* fs.makeTempDirectoryScoped({ prefix: "tidal-wal-pack-" })
    const from = (name: string) => path.join(packageRoot, name)
    // Type-checking is `tsc --noEmit`'s job; this build only has to emit what ships.
    const tsc = path.join(packageRoot, "node_modules", "typescript", "bin", "tsc")
    const build = yield* runNode(
      tsc,
      "-p",
      from("tsconfig.build.json"),
      "--outDir",
      path.join(root, "dist"),
      "--noCheck"
    )
    assert.strictEqual(build.code, 0, `tsc: ${build.stdout}${build.stderr}`)
    yield* fs.makeDirectory(path.join(root, "bin"))
    yield* fs.copyFile(from("bin/tidal-wal.js"), path.join(root, "bin", "tidal-wal.js"))
    const manifest: Record<string, unknown> = JSON.parse(yield* fs.readFileString(from("package.json")))
    yield* fs.writeFileString(
      path.join(root, "package.json"),
      JSON.stringify({ ...manifest, version }, null, 2)
    )
    // The peers (effect, @effect/platform-node) are the checkout's, as a consumer's would be theirs.
    yield* fs.symlink(from("node_modules"), path.join(root, "node_modules"))
    return root
  })

const assertRan = (run: CliRun, code: number, label: string) =>
  assert.strictEqual(run.code, code, `${label}: ${run.stdout}${run.stderr}`)

describe("the tidal-wal bin", () => {
  it.live(
    "from a packed layout: --version from its package.json, exit 1 and the damage on a torn log",
    () =>
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const version = "0.1.0-smoke.7"
        const root = yield* packedPackage(version)
        const bin = path.join(root, "bin", "tidal-wal.js")

        const shown = yield* runNode(bin, "--version")
        assertRan(shown, 0, "bin --version")
        assert.strictEqual(shown.stdout.trim(), `tidal-wal v${version}`)

        const dir = yield* tempDir
        yield* buildLog(dir, 9, 5, { segmentMaxBytes: 3 * BATCH_BYTES })
        const last = (yield* segmentPaths(dir)).at(-1) ?? ""
        const bytes = yield* fs.readFile(last)
        yield* fs.writeFile(last, bytes.subarray(0, bytes.byteLength - 10))
        const torn = yield* runNode(bin, "verify", dir)
        assertRan(torn, 1, "bin verify")
        assert.strictEqual(torn.stdout, "")
        assert.include(torn.stderr, `${last} at byte ${2 * BATCH_BYTES}: BatchPastEndOfFile`)
        assert.notInclude(torn.stderr, "    at ")
      }).pipe(Effect.scoped, Effect.provide(nodeLayer)),
    60_000
  )
})
