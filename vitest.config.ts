/**
 * Two test projects; `npm test` (`vitest run`) runs both.
 *
 * - `fast` — unit and in-memory tests, and small real-disk work in a temp directory: what to run
 *   after every change (`npx vitest run --project fast`, well under 30 s on an idle 2-core machine).
 * - `system` — real child processes (SIGKILL crash loops, lock races, the spawned CLI and
 *   examples), real servers (NATS), and large real-disk or memory work (a 256 MiB log, a huge
 *   sparse segment, 2^24 dedup keys, the benchmark command).
 *
 * Choosing for a new test file: it is `fast` unless it starts a Node process or a server, waits on
 * another process, or needs more than about a second of disk or memory work. If it does, put it in
 * a system directory (test/crash, test/lock, test/jetstream, test/examples — see the exceptions
 * below) or name it `*.system.test.ts`; list an existing file in SYSTEM_FILES only when it cannot
 * be renamed. Short system tools (`mkfifo`) do not make a test `system`. Membership is by file,
 * so a file mixing both kinds goes to `system` whole: split it when the fast part matters.
 * Check where a file landed with `npx vitest list --project fast --filesOnly`.
 */
import { defineConfig } from "vitest/config"

/**
 * Directories of system tests. test/jetstream's own unit tests (`units.test.ts`) and the parts of
 * the ingest-service example tested in-process (`*Parts.test.ts`) are the fast exceptions.
 */
const SYSTEM_DIRECTORIES = [
  "test/crash/**/*.test.ts",
  "test/lock/**/*.test.ts",
  "test/jetstream/**/!(units).test.ts",
  "test/examples/**/!(*Parts).test.ts"
]

/** System test files elsewhere, each with its reason. */
const SYSTEM_FILES = [
  "test/**/*.system.test.ts",
  // SIGKILLs a child process in a loop.
  "test/checkpoint/checkpoint.test.ts",
  // Spawns the packed bin.
  "test/cli/bin.test.ts",
  // Runs the benchmark command on the real disk.
  "test/cli/bench.test.ts",
  // Runs examples/otlp.ts in a child process against a local OTLP endpoint.
  "test/metrics.test.ts",
  // require() from a CommonJS child process.
  "test/package/moduleFormat.test.ts",
  // A 256 MiB log read in flat memory.
  "test/reader/read.test.ts",
  // A huge sparse segment, in a child process with a memory limit.
  "test/recovery/hugeSegment.test.ts",
  // More than 2^24 keys in one window (seconds of CPU and hundreds of MiB).
  "test/dedup/keyTable.test.ts",
  // A recovery on the real disk for every offset of a cut batch (seconds).
  "test/recovery/tornTail.test.ts",
  // 300 damaged copies of a log, each reopened from the real disk (seconds).
  "test/recovery/bitFlip.property.test.ts"
]

const SYSTEM = [...SYSTEM_DIRECTORIES, ...SYSTEM_FILES]

export default defineConfig({
  test: {
    // No `include` here: a project extending this config would add its own to it, not replace it.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // The memory tests force a collection before sampling, to measure what is retained, not garbage.
    execArgv: ["--expose-gc"],
    projects: [
      {
        extends: true,
        test: {
          name: "fast",
          include: ["test/**/*.test.ts"],
          exclude: SYSTEM,
          // One worker runs many files without reloading Effect for each: over half of this
          // project's time went to importing. Fast tests must not leave global state behind.
          isolate: false,
          maxWorkers: "100%"
        }
      },
      { extends: true, test: { name: "system", include: SYSTEM } }
    ]
  }
})
