/**
 * Issue #14 item 6: the package loads with `require()`, which a top-level await forbids
 * (ERR_REQUIRE_ASYNC_MODULE), so the BLAKE3 WASM is instantiated lazily; until it is ready,
 * checksums come from a portable implementation that must give the same digests.
 *
 * The `require` runs in a CommonJS child process on the source (Node ≥ 22.18 strips the types;
 * `require` of an ES module is on by default since 22.12): the graph `require` walks is the same
 * one tsc emits as dist/, so a top-level await anywhere in it fails here without a build.
 * `.ci/consumer-install` repeats the check on the packed tarball under Node 22.19 and 24.
 *
 * The property test's seed is random and printed; rerun one with CHECKSUM_SEED=<seed>.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { blake3 as nobleBlake3 } from "@noble/hashes/blake3.js"
import { Effect } from "effect"
import fc from "fast-check"
import {
  blake3,
  checksumImplementation,
  checksumReady,
  portableBlake3
} from "../../src/internal/format/checksum.ts"

const SEED = Number(process.env.CHECKSUM_SEED ?? Math.floor(Math.random() * 2 ** 31))
console.log(`checksum seed: ${SEED} (rerun with CHECKSUM_SEED=${SEED})`)

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex")

/** Lengths around every block (64 B) and chunk (1 KiB) edge, and a tree several levels deep. */
const EDGE_LENGTHS = [0, 1, 63, 64, 65, 1023, 1024, 1025, 2048, 2049, 3072, 3073, 4096, 4097, 9000, 70_000]

const patterned = (length: number, salt: number): Uint8Array =>
  Uint8Array.from({ length }, (_, i) => (i * 31 + salt) & 0xff)

const SOURCE_INDEX = fileURLToPath(new URL("../../src/index.ts", import.meta.url))

/** Runs `script` as CommonJS on this test's Node, with the module's path as its argument. */
const runCommonJs = (script: string, modulePath: string) =>
  Effect.callback<{ readonly code: number; readonly stdout: string; readonly stderr: string }>((resume) => {
    execFile(
      process.execPath,
      ["--input-type=commonjs", "--eval", script, modulePath],
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1
        resume(Effect.succeed({ code, stdout, stderr }))
      }
    )
  })

describe("module format", () => {
  // First in this file, so the module is as fresh as a consumer's: nothing has hashed yet.
  it.effect("hashes before the WASM is ready equal the WASM's, and the WASM takes over", () =>
    Effect.gen(function* () {
      assert.strictEqual(checksumImplementation(), "portable", "nothing is instantiated at import")
      const inputs = EDGE_LENGTHS.map((length) => patterned(length, length))
      const before = inputs.map((input) => hex(blake3(input.subarray(0, 10), input.subarray(10))))
      yield* checksumReady
      assert.strictEqual(checksumImplementation(), "wasm")
      inputs.forEach((input, i) => {
        assert.strictEqual(before[i], hex(nobleBlake3(input)), `length ${input.byteLength}`)
        assert.strictEqual(hex(blake3(input)), before[i], `length ${input.byteLength}`)
      })
      yield* checksumReady
    })
  )

  it("the portable BLAKE3 equals @noble/hashes on arbitrary inputs", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (input) => {
        assert.strictEqual(hex(portableBlake3(input)), hex(nobleBlake3(input)))
      }),
      { numRuns: 300, seed: SEED }
    )
    for (const length of EDGE_LENGTHS) {
      const input = patterned(length, 7)
      assert.strictEqual(hex(portableBlake3(input)), hex(nobleBlake3(input)), `length ${length}`)
    }
  })

  it.live("require() of the package works from CommonJS, with the public names", () =>
    Effect.gen(function* () {
      const script = [
        "const wal = require(process.argv[1])",
        "const present = wal.WalHandle && wal.decodeWalConfig && wal.SignalEvent",
        "process.stdout.write(JSON.stringify({ ok: Boolean(present), names: Object.keys(wal).length }))"
      ].join("\n")
      const result = yield* runCommonJs(script, SOURCE_INDEX)
      assert.strictEqual(result.code, 0, result.stderr)
      assert.notInclude(result.stderr, "ERR_REQUIRE_ASYNC_MODULE")
      const parsed = JSON.parse(result.stdout) as { ok: boolean; names: number }
      assert.isTrue(parsed.ok)
      assert.isAbove(parsed.names, 10)
    })
  )
})
