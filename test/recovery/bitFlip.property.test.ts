/**
 * Property: any single bit of any file flipped, or random bytes in place of a segment, and open
 * either recovers a valid prefix of what was written or fails with a typed WalError. It never
 * returns an event that was not written, never throws a defect, never hangs.
 */

import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, FileSystem, Path } from "effect"
import fc from "fast-check"
import { isWalError, type RecoveryMode, WalHandle } from "../../src/index.ts"
import { KERNEL_LOCK_FILE } from "../../src/internal/fs/directoryLock.ts"
import { buildLog, copyLog } from "../support/logs.ts"
import { nodeLayer, plainEvent, stored, tempDir } from "../support/wal.ts"

describe("damage anywhere", () => {
  it.live(
    "a flipped bit or a random segment gives a valid prefix or a typed error",
    () =>
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const template = yield* tempDir
        const events = (yield* buildLog(template, 8, 4, { segmentMaxBytes: 3 * (64 + 84) })).map(stored)
        yield* Effect.scoped(
          Effect.gen(function* () {
            const [wal] = yield* WalHandle.open({
              dir: template,
              segmentMaxBytes: 3 * (64 + 84),
              batchMaxEvents: 4
            })
            yield* wal.checkpoint(6n)
          })
        )
        const files = (yield* fs.readDirectory(template)).filter((f) => f !== KERNEL_LOCK_FILE).sort()
        const sizes = yield* Effect.forEach(files, (f) =>
          Effect.map(fs.stat(path.join(template, f)), (s) => Number(s.size))
        )
        const damage = fc.oneof(
          fc.record({
            kind: fc.constant("flip" as const),
            file: fc.integer({ min: 0, max: files.length - 1 }),
            position: fc.nat(),
            bit: fc.integer({ min: 0, max: 7 })
          }),
          fc.record({
            kind: fc.constant("random" as const),
            file: fc.integer({ min: 0, max: files.length - 1 }),
            bytes: fc.uint8Array({ minLength: 0, maxLength: 600 })
          })
        )
        const mode = fc.constantFrom<RecoveryMode>("tolerate-tail", "point-in-time", "strict")
        const samples = fc.sample(fc.tuple(damage, mode), { numRuns: 300, seed: 20261124 })
        let recovered = 0
        let failed = 0
        for (const [d, recoveryMode] of samples) {
          const exit = yield* Effect.scoped(
            Effect.gen(function* () {
              const dir = yield* copyLog(template)
              const name = files[d.file] ?? ""
              const target = path.join(dir, name)
              if (d.kind === "flip") {
                const bytes = yield* fs.readFile(target)
                if (bytes.byteLength === 0) return Exit.succeed(0)
                const at = d.position % bytes.byteLength
                bytes[at] = (bytes[at] ?? 0) ^ (1 << d.bit)
                yield* fs.writeFile(target, bytes)
              } else if (name.endsWith(".seg")) {
                yield* fs.writeFile(target, d.bytes)
              } else {
                return Exit.succeed(0)
              }
              return yield* Effect.exit(
                Effect.scoped(
                  Effect.gen(function* () {
                    const [, replayed] = yield* WalHandle.open({ dir, recoveryMode })
                    // Every replayed event is the one written at that sequence number.
                    for (const event of replayed) {
                      assert.deepStrictEqual(
                        plainEvent(event),
                        events[Number(event.seq) - 1],
                        `seq ${event.seq}`
                      )
                    }
                    return replayed.length
                  })
                ).pipe(Effect.timeout("10 seconds"))
              )
            })
          )
          if (Exit.isSuccess(exit)) {
            recovered++
            continue
          }
          failed++
          const error = Cause.findErrorOption(exit.cause)
          assert.isTrue(
            error._tag === "Some" && isWalError(error.value),
            `not a WalError: ${Cause.pretty(exit.cause)} (${JSON.stringify(d)})`
          )
        }
        assert.isAbove(recovered, 0)
        assert.isAbove(failed, 0)
        assert.isAbove(sizes.length, 3)
      }).pipe(Effect.scoped, Effect.provide(nodeLayer)),
    { timeout: 60_000 }
  )
})
