/**
 * Issue #12 within one process (SPEC §3 "Open": "from the same process, also through another path
 * or a symlink to the same directory, also when both opens start at once"): two opens started
 * together, two layers built together, other spellings of the path, and the LOCK files an earlier
 * version leaves behind. Public API only, so each test also runs against the earlier lock.
 */
import { rmSync, symlinkSync, writeFileSync } from "node:fs"
import { basename, dirname, join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer } from "effect"
import { LockedError, WalHandle } from "../../src/index.ts"
import { openFromChild } from "../support/lockProcess.ts"
import { nodeLayer, tempDir } from "../support/wal.ts"

const lockedOrOpened = (exits: ReadonlyArray<Exit.Exit<unknown, unknown>>) => ({
  opened: exits.filter(Exit.isSuccess).length,
  locked: exits.filter((exit) => Exit.isFailure(exit) && Cause.squash(exit.cause) instanceof LockedError)
    .length
})

describe("the directory lock within one process", () => {
  it.live("two opens started at once on a fresh directory: exactly one opens, the other is LockedError", () =>
    Effect.gen(function* () {
      for (let round = 0; round < 10; round++) {
        const dir = join(yield* tempDir, "fresh", "wal")
        const exits = yield* Effect.scoped(
          Effect.all([Effect.exit(WalHandle.open({ dir })), Effect.exit(WalHandle.open({ dir }))], {
            concurrency: "unbounded"
          })
        )
        assert.deepStrictEqual(lockedOrOpened(exits), { opened: 1, locked: 1 }, `round ${round}`)
      }
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("Layer.mergeAll of two WalHandle.layer on one directory fails with LockedError", () =>
    Effect.gen(function* () {
      const dir = join(yield* tempDir, "wal")
      const outcomes: Array<string> = []
      const observed = () =>
        WalHandle.layer({ dir }).pipe(
          Layer.tap(() => Effect.sync(() => outcomes.push("opened"))),
          Layer.tapError((error) => Effect.sync(() => outcomes.push(error._tag)))
        )
      const exit = yield* Effect.exit(Effect.scoped(Layer.build(Layer.mergeAll(observed(), observed()))))
      assert.isTrue(Exit.isFailure(exit) && Cause.squash(exit.cause) instanceof LockedError, String(exit))
      // The other layer either opened first or was interrupted while opening: never both open.
      assert.strictEqual(outcomes.filter((outcome) => outcome === "LockedError").length, 1, String(outcomes))
      assert.isAtMost(outcomes.filter((outcome) => outcome === "opened").length, 1)
      // The failed build released everything: the directory opens again.
      yield* Effect.scoped(WalHandle.open({ dir }))
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("the same directory through a symlink, `dir/../dir`, `dir/.` or `dir/`: LockedError", () =>
    Effect.gen(function* () {
      const parent = yield* tempDir
      const dir = join(parent, "wal")
      const link = join(parent, "link")
      const [wal] = yield* WalHandle.open({ dir })
      symlinkSync(dir, link)
      for (const spelling of [link, `${dir}/../${basename(dir)}`, `${dir}/.`, `${dir}/`, `${link}/../wal`]) {
        const error = yield* Effect.flip(WalHandle.open({ dir: spelling }))
        assert.instanceOf(error, LockedError, spelling)
      }
      assert.strictEqual(wal.dir, dir)
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("opened through a symlink, the handle's dir is the real directory", () =>
    Effect.gen(function* () {
      const parent = yield* tempDir
      const dir = join(parent, "wal")
      const [first] = yield* Effect.scoped(WalHandle.open({ dir }))
      symlinkSync(dir, join(parent, "link"))
      const [wal] = yield* WalHandle.open({ dir: join(parent, "link") })
      assert.strictEqual(wal.dir, first.dir)
      assert.strictEqual(wal.dir, dir)
      assert.isTrue((yield* wal.listSegments).every((segment) => dirname(segment.path) === dir))
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("a failed second open in this process keeps the first handle's lock against other processes", () =>
    Effect.gen(function* () {
      const dir = join(yield* tempDir, "wal")
      yield* WalHandle.open({ dir })
      for (let attempt = 0; attempt < 3; attempt++) {
        assert.instanceOf(yield* Effect.flip(WalHandle.open({ dir })), LockedError)
      }
      assert.match(yield* openFromChild(dir), /^locked /)
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("a LOCK from an earlier version (pid only, or empty) fails closed, saying how to clear it", () =>
    Effect.gen(function* () {
      for (const legacy of ["999999\n\n", "2147483646\n1234\n", ""]) {
        const dir = join(yield* tempDir, "wal")
        yield* Effect.scoped(WalHandle.open({ dir }))
        writeFileSync(join(dir, "LOCK"), legacy)
        const error = yield* Effect.flip(Effect.scoped(WalHandle.open({ dir })))
        assert.instanceOf(error, LockedError, JSON.stringify(legacy))
        assert.include(error.message, join(dir, "LOCK"))
        assert.include(error.message, "by hand")
        // Deleting it by hand, as the message says, frees the directory.
        rmSync(join(dir, "LOCK"))
        yield* Effect.scoped(WalHandle.open({ dir }))
      }
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("shutdown releases the lock before the scope closes", () =>
    Effect.gen(function* () {
      const dir = join(yield* tempDir, "wal")
      const [wal] = yield* WalHandle.open({ dir })
      yield* wal.shutdown
      const [again] = yield* WalHandle.open({ dir })
      yield* again.shutdown
      yield* wal.shutdown
      assert.match(yield* openFromChild(dir), /^opened /)
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})
