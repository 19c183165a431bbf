/**
 * `WalHandle.layer(config)` as a lifecycle: releasing the layer shuts the WAL down — every queued
 * append made durable, the files closed, the lock released — whether it was built in a scope or
 * under a `ManagedRuntime` (`dispose`); a layer that fails to build releases whatever it had
 * acquired, at once; an explicit `shutdown` followed by the scope's close (or racing it) shuts
 * down once.
 *
 * Method: a real directory; "files closed" is read from this process's open descriptors
 * (/proc/self/fd), "lock released" from a second open in the same process succeeding.
 */
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Context, Effect, Exit, Fiber, Layer, ManagedRuntime, Scope } from "effect"
import { onTestFinished } from "vitest"
import {
  ClosedError,
  CorruptionError,
  InvalidConfigError,
  LockedError,
  type SignalEvent,
  WalHandle
} from "../../src/index.ts"
import { eventFor, eventsFor, nodeLayer, tempDir } from "../support/wal.ts"

/** Descriptors this process holds on anything under `dir` (Linux). */
const openFilesUnder = (dir: string): Array<string> =>
  readdirSync("/proc/self/fd").flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`)
      return target === dir || target.startsWith(`${dir}/`) ? [target] : []
    } catch {
      // Closed between the listing and the read (the listing's own descriptor, say).
      return []
    }
  })

/** Reopens `dir` in a scope of its own: the lock must be free. Returns the events replayed. */
const reopen = (dir: string) =>
  Effect.scoped(Effect.map(WalHandle.open({ dir }), ([, replayed]) => [...replayed]))

const appendEach = (wal: WalHandle["Service"], events: ReadonlyArray<SignalEvent>, scope: Scope.Scope) =>
  Effect.forEach(events, (event) => Effect.forkIn(wal.append(event), scope, { startImmediately: true }))

describe("WalHandle.layer released", () => {
  it.live("drains every queued append, closes the files and releases the lock", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const outer = yield* Effect.scope
      const appends = yield* Effect.scoped(
        Effect.gen(function* () {
          const context = yield* Layer.build(WalHandle.layer({ dir, batchMaxWait: "1 second" }))
          const wal = Context.get(context, WalHandle)
          assert.isNotEmpty(openFilesUnder(dir), "the open WAL holds its lock file")
          // Under a one-second window these are all still queued when the layer is released.
          const forked = yield* appendEach(wal, eventsFor(300), outer)
          assert.isTrue(
            forked.every((fiber) => fiber.pollUnsafe() === undefined),
            "an append completed before release"
          )
          return forked
        })
      )
      assert.deepStrictEqual(openFilesUnder(dir), [], "a file is still open after release")
      const seqs = yield* Effect.forEach(appends, Fiber.join)
      assert.deepStrictEqual(
        [...seqs].sort((a, b) => Number(a - b)),
        Array.from({ length: 300 }, (_, i) => BigInt(i + 1))
      )
      assert.strictEqual((yield* reopen(dir)).length, 300)
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("a layer that fails after taking the lock releases it at once, in the same scope", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* Effect.scoped(Effect.flatMap(WalHandle.open({ dir }), ([wal]) => wal.append(eventFor(1))))
      writeFileSync(join(dir, "checkpoint.meta"), "not a checkpoint")
      // The scope stays open: whatever the failed build acquired must be released already.
      const first = yield* Effect.flip(Layer.build(WalHandle.layer({ dir })))
      assert.instanceOf(first, CorruptionError)
      assert.deepStrictEqual(openFilesUnder(dir), [])
      // Not LockedError: the lock the failed build took is free again.
      assert.instanceOf(yield* Effect.flip(Layer.build(WalHandle.layer({ dir }))), CorruptionError)
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live(
    "layers on a locked directory fail with LockedError, leave the owner's lock held, leak nothing",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const [owner] = yield* WalHandle.open({ dir })
        assert.instanceOf(yield* Effect.flip(Layer.build(WalHandle.layer({ dir }))), LockedError)
        // SQLite defers closing its descriptor of a locked file until the lock is gone (closing it
        // would drop the owner's fcntl lock): one may stay, but failures must not add up.
        const afterOneFailure = openFilesUnder(dir).length
        for (let attempt = 0; attempt < 5; attempt++) {
          assert.instanceOf(yield* Effect.flip(Layer.build(WalHandle.layer({ dir }))), LockedError)
        }
        assert.strictEqual(openFilesUnder(dir).length, afterOneFailure, "each failed layer left a file open")
        // The failed layers released nothing of the owner's: it still writes, and holds the lock.
        assert.strictEqual(yield* owner.append(eventFor(1)), 1n)
        yield* owner.shutdown
        assert.deepStrictEqual(openFilesUnder(dir), [])
        assert.strictEqual((yield* reopen(dir)).length, 1)
      }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live("a layer with a bad config fails with InvalidConfigError before the directory is touched", () =>
    Effect.gen(function* () {
      const dir = join(yield* tempDir, "never-made")
      const error = yield* Effect.flip(Layer.build(WalHandle.layer({ dir, batchMaxEvents: 0 })))
      assert.instanceOf(error, InvalidConfigError)
      assert.deepStrictEqual(readdirSync(join(dir, "..")), [])
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})

describe("shutdown and the scope's close", () => {
  it.live("shutdown, shutdown again, then the scope closes: one shutdown, nothing fails or hangs", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(WalHandle.layer({ dir, groupCommit: "eager" }), scope)
      const wal = Context.get(context, WalHandle)
      assert.strictEqual(yield* wal.append(eventFor(1)), 1n)
      yield* wal.shutdown
      // Released by shutdown, before the scope closes.
      assert.deepStrictEqual(openFilesUnder(dir), [])
      assert.strictEqual((yield* reopen(dir)).length, 1)
      yield* wal.shutdown
      assert.instanceOf(yield* Effect.flip(wal.append(eventFor(2))), ClosedError)
      yield* Scope.close(scope, Exit.void)
      yield* wal.shutdown
      assert.strictEqual((yield* reopen(dir)).length, 1)
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  /** Opens a WAL in a scope of the test's with 50 appends queued behind a one-second window. */
  const openWithQueuedAppends = Effect.gen(function* () {
    const dir = yield* tempDir
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(WalHandle.layer({ dir, batchMaxWait: "1 second" }), scope)
    const wal = Context.get(context, WalHandle)
    const appends = yield* appendEach(wal, eventsFor(50), yield* Effect.scope)
    /** Everything a finished shutdown promises: every append answered, the files closed. */
    const assertShutDown = (who: string) =>
      Effect.sync(() => {
        assert.isTrue(
          appends.every((fiber) => fiber.pollUnsafe() !== undefined),
          `${who} returned before the queue was drained`
        )
        assert.deepStrictEqual(openFilesUnder(dir), [], `${who} returned before the files were closed`)
      })
    return { dir, scope, wal, appends, assertShutDown }
  })

  it.live("two shutdowns at once: the second returns only once the first has finished", () =>
    Effect.gen(function* () {
      const { dir, scope, wal, appends, assertShutDown } = yield* openWithQueuedAppends
      const first = yield* Effect.forkChild(wal.shutdown, { startImmediately: true })
      yield* wal.shutdown
      yield* assertShutDown("the second shutdown")
      yield* Fiber.join(first)
      yield* Scope.close(scope, Exit.void)
      assert.strictEqual((yield* Effect.forEach(appends, Fiber.join)).length, 50)
      assert.strictEqual((yield* reopen(dir)).length, 50)
    }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )

  it.live(
    "shutdown while the scope closes, and the scope's close while shutdown runs: each returns once done",
    () =>
      Effect.gen(function* () {
        for (const firstToStart of ["shutdown", "scope"] as const) {
          const { dir, scope, wal, appends, assertShutDown } = yield* openWithQueuedAppends
          const closeScope = Scope.close(scope, Exit.void)
          const [first, second] =
            firstToStart === "shutdown" ? [wal.shutdown, closeScope] : [closeScope, wal.shutdown]
          const started = yield* Effect.forkChild(first, { startImmediately: true })
          yield* second
          yield* assertShutDown(
            `${firstToStart === "shutdown" ? "the scope's close" : "shutdown"}, started second,`
          )
          yield* Fiber.join(started)
          assert.strictEqual((yield* Effect.forEach(appends, Fiber.join)).length, 50)
          assert.strictEqual((yield* reopen(dir)).length, 50)
        }
      }).pipe(Effect.scoped, Effect.provide(nodeLayer))
  )
})

describe("under ManagedRuntime", () => {
  const runtimeFor = (dir: string, batchMaxWait = "10 millis") =>
    ManagedRuntime.make(WalHandle.layer({ dir, batchMaxWait }).pipe(Layer.provide(NodeServices.layer)))
  const append = (event: SignalEvent) => WalHandle.use((wal) => wal.append(event))
  /** A fresh directory, removed when the test ends (these tests run outside an Effect scope). */
  const scratchDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "tidal-wal-test-"))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    return dir
  }

  it("runPromise appends; dispose drains what is queued, then releases the lock and the files", async () => {
    const dir = scratchDir()
    const runtime = runtimeFor(dir, "1 second")
    // A full batch: written at once, without waiting for the window.
    const first = await runtime.runPromise(WalHandle.use((wal) => wal.appendAll(eventsFor(100))))
    assert.deepStrictEqual(
      first,
      Array.from({ length: 100 }, (_, i) => BigInt(i + 1))
    )
    // Queued behind a one-second window when dispose starts. Dispose interrupts the runtime's
    // fibers (the callers) first, then releases the layer: the drain writes every queued event.
    const pending = Promise.allSettled(eventsFor(100, 100).map((event) => runtime.runPromise(append(event))))
    await runtime.dispose()
    const settled = await pending
    for (const outcome of settled) {
      if (outcome.status === "rejected") assert.include(String(outcome.reason), "interrupted")
    }
    assert.deepStrictEqual(openFilesUnder(dir), [])
    const replayed = await Effect.runPromise(reopen(dir).pipe(Effect.provide(nodeLayer)))
    assert.deepStrictEqual(
      replayed.map((event) => event.seq),
      Array.from({ length: 200 }, (_, i) => BigInt(i + 1))
    )
  })

  it("a runtime whose layer fails: each run fails with the open error, and dispose releases everything", async () => {
    const dir = scratchDir()
    const owner = runtimeFor(dir)
    await owner.runPromise(append(eventFor(1)))
    const second = runtimeFor(dir)
    const exit = await second.runPromiseExit(append(eventFor(2)))
    assert.isTrue(Exit.isFailure(exit) && Cause.squash(exit.cause) instanceof LockedError, String(exit))
    await second.dispose()
    await owner.dispose()
    assert.deepStrictEqual(openFilesUnder(dir), [])
    const replayed = await Effect.runPromise(reopen(dir).pipe(Effect.provide(nodeLayer)))
    assert.strictEqual(replayed.length, 1)
  })
})
