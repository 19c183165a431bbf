/**
 * The lock module's own surface: `lockStatus` (read-only, safe beside a holder in the same
 * process), the `DirectoryLocker` seam and its in-memory implementation, the order of release at
 * shutdown, the messages, and the lock file's failure modes (not a database, read-only mount).
 */
import { execFileSync, spawnSync } from "node:child_process"
import { mkdirSync, readdirSync, readlinkSync, rmdirSync, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { IoError, LockedError, WalHandle } from "../../src/index.ts"
import {
  DirectoryLocker,
  type DirectoryLockerShape,
  inMemoryDirectoryLocker,
  KERNEL_LOCK_FILE,
  LOCK_FILE,
  lockStatus
} from "../../src/internal/fs/directoryLock.ts"
import { tryKernelLock } from "../../src/internal/fs/kernelLock.ts"
import { openFromChild, readyLockChild } from "../support/lockProcess.ts"
import { eventFor, nodeLayer, tempDir } from "../support/wal.ts"

describe("lockStatus", () => {
  it.live("free, held by this process, held by another, free again; never creates anything", () =>
    Effect.gen(function* () {
      const parent = yield* tempDir
      const dir = join(parent, "wal")
      assert.deepStrictEqual(yield* lockStatus(dir), { held: false })
      assert.deepStrictEqual(readdirSync(parent), [], "a status of a missing directory creates nothing")
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* WalHandle.open({ dir })
          const status = yield* lockStatus(dir)
          assert.isTrue(status.held)
          assert.include(status.owner, `this process (pid ${process.pid} on host ${hostname()}`)
        })
      )
      assert.deepStrictEqual(yield* lockStatus(dir), { held: false })
      const holder = yield* readyLockChild(["hold", dir])
      const status = yield* lockStatus(dir)
      assert.isTrue(status.held)
      assert.include(status.owner, `process pid ${holder.pid} on host ${hostname()}`)
      yield* holder.child.kill
      assert.deepStrictEqual(yield* lockStatus(dir), { held: false }, "a dead holder's lock is free")
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("probing in the process that holds the lock keeps it held against other processes", () =>
    Effect.gen(function* () {
      const dir = join(yield* tempDir, "wal")
      yield* WalHandle.open({ dir })
      for (let probe = 0; probe < 5; probe++) assert.isTrue((yield* lockStatus(dir)).held)
      assert.match(yield* openFromChild(dir), /^locked /)
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("a LOCK from an earlier version counts as held, with what to do", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      writeFileSync(join(dir, LOCK_FILE), "4242\n123\n")
      const status = yield* lockStatus(dir)
      assert.isTrue(status.held)
      assert.include(status.owner, "pid 4242")
      assert.include(status.owner, "deleted by hand")
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})

describe("DirectoryLocker", () => {
  it.effect(
    "the in-memory locker: a second acquire of a held directory fails until the first is released",
    () =>
      Effect.gen(function* () {
        const locker = inMemoryDirectoryLocker()
        yield* Effect.scoped(
          Effect.gen(function* () {
            yield* locker.acquire("/wal")
            yield* locker.acquire("/other")
            assert.instanceOf(yield* Effect.flip(locker.acquire("/wal")), LockedError)
          })
        )
        yield* Effect.scoped(locker.acquire("/wal"))
      }).pipe(Effect.provide(nodeLayer))
  )

  it.live("open acquires through the provided locker: nothing is written for the lock", () =>
    Effect.gen(function* () {
      const dir = join(yield* tempDir, "wal")
      yield* Effect.gen(function* () {
        yield* WalHandle.open({ dir })
        assert.instanceOf(yield* Effect.flip(WalHandle.open({ dir })), LockedError)
        const files = readdirSync(dir)
        assert.notInclude(files, LOCK_FILE)
        assert.notInclude(files, KERNEL_LOCK_FILE)
      }).pipe(Effect.scoped, Effect.provideService(DirectoryLocker, inMemoryDirectoryLocker()))
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("the lock is released after shutdown drained every append and closed the segment files", () =>
    Effect.gen(function* () {
      const dir = join(yield* tempDir, "wal")
      const log: Array<string> = []
      const inner = inMemoryDirectoryLocker()
      const recording: DirectoryLockerShape = {
        acquire: (lockDir) =>
          Effect.andThen(
            Effect.addFinalizer(() =>
              Effect.sync(() => log.push(`released; open segment files: ${openSegmentFiles(lockDir).length}`))
            ),
            inner.acquire(lockDir)
          )
      }
      yield* Effect.gen(function* () {
        const [wal] = yield* WalHandle.open({ dir, batchMaxEvents: 7 })
        yield* Effect.forkChild(
          Effect.forEach(
            Array.from({ length: 200 }, (_, i) => i),
            (i) =>
              Effect.flatMap(wal.append(eventFor(i)), (seq) => Effect.sync(() => log.push(`ack ${seq}`))),
            { concurrency: "unbounded", discard: true }
          )
        )
        yield* Effect.yieldNow
      }).pipe(Effect.scoped, Effect.provideService(DirectoryLocker, recording))
      assert.strictEqual(log.length, 201)
      assert.strictEqual(log.at(-1), "released; open segment files: 0")
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("an open's failure after the lock releases it at once, in the caller's still-open scope", () =>
    Effect.gen(function* () {
      const dir = join(yield* tempDir, "wal")
      yield* Effect.scoped(WalHandle.open({ dir }))
      writeFileSync(join(dir, "checkpoint.meta"), "not a checkpoint")
      const locker = inMemoryDirectoryLocker()
      const error = yield* Effect.flip(
        WalHandle.open({ dir }).pipe(Effect.provideService(DirectoryLocker, locker))
      )
      assert.strictEqual(error._tag, "CorruptionError")
      yield* Effect.scoped(locker.acquire(dir))
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})

describe("the kernel lock's messages and failure modes", () => {
  it.live("LockedError from another process names the holder and says the lock cannot be stale", () =>
    Effect.gen(function* () {
      const dir = join(yield* tempDir, "wal")
      const holder = yield* readyLockChild(["hold", dir])
      const error = yield* Effect.flip(WalHandle.open({ dir }))
      assert.instanceOf(error, LockedError)
      assert.strictEqual(error.ownerPid, holder.pid)
      assert.include(error.message, `pid ${holder.pid} on host ${hostname()}`)
      assert.include(error.message, join(dir, KERNEL_LOCK_FILE))
      assert.include(error.message, "never stale")
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("LockedError within this process says so", () =>
    Effect.gen(function* () {
      const dir = join(yield* tempDir, "wal")
      yield* WalHandle.open({ dir })
      const error = yield* Effect.flip(WalHandle.open({ dir }))
      assert.include(error.message, `this process (pid ${process.pid}`)
      assert.include(error.message, "another WalHandle on the same directory")
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("a LOCK.sqlite that is not an empty SQLite file: IoError naming it, from open and lockStatus", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      writeFileSync(
        join(dir, KERNEL_LOCK_FILE),
        "not a database, and longer than a header would be ".repeat(20)
      )
      const error = yield* Effect.flip(WalHandle.open({ dir }))
      assert.instanceOf(error, IoError)
      assert.strictEqual(error.path, join(dir, KERNEL_LOCK_FILE))
      assert.include(error.message, "delete it by hand")
      assert.instanceOf(yield* Effect.flip(lockStatus(dir)), IoError)
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live.skipIf(!canMountReadOnly())(
    "on a read-only mount, the lock fails with EROFS instead of a lock SQLite never took",
    () =>
      Effect.gen(function* () {
        const source = yield* tempDir
        writeFileSync(join(source, KERNEL_LOCK_FILE), "")
        const mounted = yield* tempDir
        yield* Effect.acquireRelease(
          Effect.sync(() => {
            execFileSync("mount", ["--bind", source, mounted])
            execFileSync("mount", ["-o", "remount,bind,ro", mounted])
          }),
          () => Effect.sync(() => execFileSync("umount", [mounted]))
        )
        const locker = yield* DirectoryLocker
        const error = yield* Effect.flip(Effect.scoped(locker.acquire(mounted)))
        assert.instanceOf(error, IoError)
        assert.strictEqual(error._tag === "IoError" ? error.code : undefined, "EROFS")
        // The kernel lock itself refused, not a later write: SQLite falls back to a read-only
        // descriptor there, on which BEGIN EXCLUSIVE "succeeds" without locking anything.
        assert.strictEqual(error._tag === "IoError" ? error.path : undefined, join(mounted, KERNEL_LOCK_FILE))
        assert.deepInclude(tryKernelLock(join(mounted, KERNEL_LOCK_FILE)), { _tag: "Failed", sqliteCode: 8 })
      }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})

/** The segment files of `dir` this process has open, from /proc/self/fd. */
const openSegmentFiles = (dir: string): Array<string> =>
  readdirSync("/proc/self/fd").flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`)
      return target.startsWith(dir) && target.endsWith(".seg") ? [target] : []
    } catch {
      return []
    }
  })

/** Root in a sandbox that allows bind mounts: tried once on a scratch directory. */
const canMountReadOnly = (): boolean => {
  const scratch = join("/tmp", `tidal-wal-mount-probe-${process.pid}`)
  mkdirSync(scratch, { recursive: true })
  const mounted = spawnSync("mount", ["--bind", scratch, scratch]).status === 0
  if (mounted) spawnSync("umount", [scratch])
  rmdirSync(scratch)
  return mounted
}
