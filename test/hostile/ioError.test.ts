/**
 * Issue #12 B: an `IoError` names the errno. A full disk under Node surfaces as a
 * `PlatformError` whose message is only "Unknown: FileSystem.writeAll (21)"; the `ENOSPC` sits
 * on the Node error in its `cause`. The message must say ENOSPC (and EIO, EACCES, EROFS,
 * EDQUOT… likewise), whether the error came from Node or was built by hand like the fault
 * injector's.
 *
 * Method: `/dev/full` gives a real ENOSPC on every write, so the real error shape is tested, and
 * end to end a WAL whose segment writes land on `/dev/full` fails its appends with it.
 */
import { existsSync } from "node:fs"
import { NodeFileSystem, NodePath } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem, Layer, PlatformError } from "effect"
import { ClosedError, IoError, WalHandle } from "../../src/index.ts"
import { eventFor, tempDir } from "../support/wal.ts"
import { typedFailure } from "./support.ts"

const hasDevFull = existsSync("/dev/full")

/** The PlatformError Node gives for a write to `/dev/full`: a real ENOSPC. */
const realEnospc = Effect.scoped(
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const full = yield* fs.open("/dev/full", { flag: "w" })
    return yield* Effect.flip(full.writeAll(new Uint8Array(16)))
  })
).pipe(Effect.provide(NodeFileSystem.layer))

/** The shape `@effect/platform-node` builds from a Node errno exception (handleErrnoException). */
const nodeShaped = (code: string, method: string): PlatformError.PlatformError =>
  PlatformError.systemError({
    _tag: code === "EACCES" ? "PermissionDenied" : "Unknown",
    module: "FileSystem",
    method,
    pathOrDescriptor: 21,
    syscall: "write",
    cause: Object.assign(new Error(`${code}: failed, write`), { code, errno: -5, syscall: "write" })
  })

/** A file system whose segment files accept opens and reads but write to `/dev/full`. */
const segmentsOnDevFull = Layer.effect(
  FileSystem.FileSystem,
  Effect.gen(function* () {
    const real = yield* FileSystem.FileSystem
    return FileSystem.FileSystem.of({
      ...real,
      open: (path, options) =>
        Effect.gen(function* () {
          const file = yield* real.open(path, options)
          if (!path.endsWith(".seg")) return file
          const full = yield* real.open("/dev/full", { flag: "w" })
          return {
            [FileSystem.FileTypeId]: FileSystem.FileTypeId,
            get stat() {
              return file.stat
            },
            seek: (offset, from) => file.seek(offset, from),
            sync: file.sync,
            read: (buffer, readOptions) => file.read(buffer, readOptions),
            readAlloc: (size, readOptions) => file.readAlloc(size, readOptions),
            truncate: (length) => file.truncate(length),
            write: (buffer) => full.write(buffer),
            writeAll: (buffer) => full.writeAll(buffer)
          } satisfies FileSystem.File
        })
    })
  })
).pipe(Layer.provide(NodeFileSystem.layer), Layer.merge(NodePath.layer))

describe("IoError names the errno", () => {
  it.effect.skipIf(!hasDevFull)("a real Node ENOSPC (a write to /dev/full)", () =>
    Effect.gen(function* () {
      const cause = yield* realEnospc
      // The platform's own message does not say it: that is the bug being fixed.
      assert.notInclude(cause.message, "ENOSPC")
      const error = new IoError({ operation: "write", path: "/wal/wal-1.seg", cause })
      assert.include(error.message, "ENOSPC")
      assert.include(error.message, "no space left on device")
      assert.include(error.message, "/wal/wal-1.seg")
      assert.strictEqual(error.code, "ENOSPC")
    })
  )

  it("EIO, EACCES, EROFS, EDQUOT in Node's shape, and the fault injector's shape", () => {
    for (const code of ["EIO", "EACCES", "EROFS", "EDQUOT", "ENOSPC"]) {
      const error = new IoError({ operation: "sync", path: "/wal/x.seg", cause: nodeShaped(code, "sync") })
      assert.include(error.message, code, code)
      assert.strictEqual(error.code, code)
    }
    // test/support/FaultyFileSystem.ts: the code in the description and on the cause.
    const injected = PlatformError.systemError({
      _tag: "Unknown",
      module: "FileSystem",
      method: "writeAll",
      description: "ENOSPC: injected fault",
      pathOrDescriptor: "/wal/x.seg",
      cause: Object.assign(new Error("ENOSPC: injected fault"), { code: "ENOSPC" })
    })
    assert.strictEqual(
      new IoError({ operation: "write", path: "/wal/x.seg", cause: injected }).code,
      "ENOSPC"
    )
    // No errno anywhere: no code, and the message still renders.
    const plain = new IoError({ operation: "write", path: "/wal/x.seg", cause: new Error("odd") })
    assert.isUndefined(plain.code)
    assert.include(plain.message, "odd")
    // A hostile cause must not make the message throw.
    const hostile = new IoError({
      operation: "write",
      path: "/wal/x.seg",
      cause: new Proxy(
        {},
        {
          get: () => {
            throw new Error("trap")
          },
          has: () => {
            throw new Error("trap")
          }
        }
      )
    })
    assert.isString(hostile.message)
  })

  it.live.skipIf(!hasDevFull)(
    "a full disk fails the append with IoError naming ENOSPC, then ClosedError naming it",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const [wal] = yield* WalHandle.open({ dir, groupCommit: "eager" })
        const failed = yield* typedFailure(wal.append(eventFor(1)), "append on a full disk")
        assert.instanceOf(failed, IoError)
        assert.include(failed.message, "ENOSPC")
        const closed = yield* typedFailure(wal.append(eventFor(2)), "append after the failure")
        assert.instanceOf(closed, ClosedError)
        assert.include(closed.message, "ENOSPC")
      }).pipe(Effect.scoped, Effect.provide(segmentsOnDevFull))
  )
})
