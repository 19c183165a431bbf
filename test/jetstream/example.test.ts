/**
 * examples/jetstream runs as its README says, against a real nats-server: two ingest runs on one
 * WAL and one on another, then the reader finds both WALs, each complete and in order.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { natsServer } from "../support/nats.ts"
import { nodeLayer, tempDir } from "../support/wal.ts"

const example = (name: string) => fileURLToPath(new URL(`../../examples/jetstream/${name}`, import.meta.url))

const run = (cwd: string, natsUrl: string, script: string, args: ReadonlyArray<string>) =>
  Effect.promise(
    () =>
      new Promise<string>((resolve, reject) => {
        execFile(
          process.execPath,
          [example(script), ...args],
          { cwd, env: { ...process.env, NATS_URL: natsUrl }, timeout: 60_000 },
          (error, stdout, stderr) =>
            error ? reject(new Error(`${script}: ${error.message}\n${stderr}`)) : resolve(stdout)
        )
      })
  )

describe("examples/jetstream", () => {
  it.live(
    "ingest ships each WAL to its own subject, resuming where its copy ends; readAll reads every WAL in order",
    () =>
      Effect.gen(function* () {
        const node = yield* natsServer
        const cwd = yield* tempDir
        const first = yield* run(cwd, node.url, "ingest.ts", ["./wal-a", "3000"])
        assert.include(first, "created stream SIGNALS")
        assert.include(first, "appended and shipped up to seq 3000")
        const again = yield* run(cwd, node.url, "ingest.ts", ["./wal-a", "1000"])
        assert.include(again, "already in JetStream: up to seq 3000")
        assert.include(again, "appended and shipped up to seq 4000")
        yield* run(cwd, node.url, "ingest.ts", ["./wal-b", "2000"])
        const read = yield* run(cwd, node.url, "readAll.ts", [])
        assert.include(read, "2 WAL(s) in SIGNALS")
        assert.match(read, /signals\.[0-9a-f]{32}: 4000 events, seq 1\.\.4000/)
        assert.match(read, /signals\.[0-9a-f]{32}: 2000 events, seq 1\.\.2000/)
      }).pipe(Effect.provide(nodeLayer)),
    90_000
  )
})
