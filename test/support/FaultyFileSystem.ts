/**
 * A FileSystem layer over the real Node one that records every mutating call and injects the
 * faults a real disk will not make on demand: EIO on write or sync, ENOSPC, a torn (short) write,
 * a slow sync.
 *
 * Paths, sizes and ordering stay real. It adds to the SIGKILL crash tests; it never replaces them.
 * Each `File` member is delegated explicitly: Node's file object defines `stat` and `sync` as
 * getters, which a spread would silently drop.
 */
import { NodeFileSystem } from "@effect/platform-node"
import { Effect, FileSystem, Layer, PlatformError } from "effect"

export type Operation = "open" | "write" | "sync" | "rename" | "remove" | "truncate"

export interface LoggedCall {
  readonly operation: Operation
  readonly path: string
  readonly bytes?: number | undefined
}

export interface Fault {
  readonly operation: "write" | "sync" | "rename" | "open"
  /** Only calls on paths that end with this string. */
  readonly pathEndsWith: string
  /** Let this many matching calls through first. */
  readonly skip: number
  readonly errno: "EIO" | "ENOSPC"
  /** For writes: write this many bytes of the buffer first (a torn write), then fail. */
  readonly tornAfterBytes?: number | undefined
}

export class FaultPlan {
  readonly log: Array<LoggedCall> = []
  private readonly faults: Array<Fault & { seen: number; fired: boolean }> = []
  /** A slow disk: every sync of a path ending with `pathEndsWith` takes this long first. */
  slowSync: { readonly pathEndsWith: string; readonly millis: number } | undefined

  withSlowSync(pathEndsWith: string, millis: number): this {
    this.slowSync = { pathEndsWith, millis }
    return this
  }

  inject(fault: Fault): this {
    this.faults.push({ ...fault, seen: 0, fired: false })
    return this
  }

  count(operation: Operation, pathEndsWith: string): number {
    return this.log.filter((call) => call.operation === operation && call.path.endsWith(pathEndsWith)).length
  }

  /** The fault to fire for this call, if any (each fault fires once). */
  take(operation: Fault["operation"], path: string): Fault | undefined {
    for (const fault of this.faults) {
      if (fault.fired || fault.operation !== operation || !path.endsWith(fault.pathEndsWith)) continue
      if (fault.seen++ < fault.skip) continue
      fault.fired = true
      return fault
    }
    return undefined
  }
}

export const faultyFileSystemLayer = (plan: FaultPlan): Layer.Layer<FileSystem.FileSystem> =>
  Layer.effect(
    FileSystem.FileSystem,
    Effect.gen(function* () {
      return wrapFileSystem(yield* FileSystem.FileSystem, plan)
    })
  ).pipe(Layer.provide(NodeFileSystem.layer))

// internals

const failure = (errno: Fault["errno"], method: string, path: string): PlatformError.PlatformError =>
  PlatformError.systemError({
    _tag: "Unknown",
    module: "FileSystem",
    method,
    description: `${errno}: injected fault`,
    pathOrDescriptor: path,
    cause: Object.assign(new Error(`${errno}: injected fault, ${method} '${path}'`), { code: errno })
  })

const wrapFileSystem = (real: FileSystem.FileSystem, plan: FaultPlan): FileSystem.FileSystem => {
  const log = (operation: Operation, path: string, bytes?: number) =>
    Effect.sync(() => {
      plan.log.push({ operation, path, bytes })
    })
  return FileSystem.FileSystem.of({
    ...real,
    open: (path, options) =>
      Effect.gen(function* () {
        yield* log("open", path)
        const fault = plan.take("open", path)
        if (fault !== undefined) return yield* failure(fault.errno, "open", path)
        const file = yield* real.open(path, options)
        return wrapFile(file, path, plan, log)
      }),
    rename: (from, to) =>
      Effect.gen(function* () {
        yield* log("rename", to)
        const fault = plan.take("rename", to)
        if (fault !== undefined) return yield* failure(fault.errno, "rename", to)
        return yield* real.rename(from, to)
      }),
    remove: (path, options) => Effect.andThen(log("remove", path), real.remove(path, options)),
    truncate: (path, length) => Effect.andThen(log("truncate", path), real.truncate(path, length))
  })
}

const wrapFile = (
  file: FileSystem.File,
  path: string,
  plan: FaultPlan,
  log: (operation: Operation, path: string, bytes?: number) => Effect.Effect<void>
): FileSystem.File => {
  const writeAll = (buffer: Uint8Array) =>
    Effect.gen(function* () {
      yield* log("write", path, buffer.byteLength)
      const fault = plan.take("write", path)
      if (fault === undefined) return yield* file.writeAll(buffer)
      if (fault.tornAfterBytes !== undefined) yield* file.writeAll(buffer.subarray(0, fault.tornAfterBytes))
      return yield* failure(fault.errno, "write", path)
    })
  return {
    [FileSystem.FileTypeId]: FileSystem.FileTypeId,
    get stat() {
      return file.stat
    },
    seek: (offset, from) => file.seek(offset, from),
    sync: Effect.gen(function* () {
      yield* log("sync", path)
      const slow = plan.slowSync
      if (slow !== undefined && path.endsWith(slow.pathEndsWith)) yield* Effect.sleep(slow.millis)
      const fault = plan.take("sync", path)
      if (fault !== undefined) return yield* failure(fault.errno, "sync", path)
      return yield* file.sync
    }),
    read: (buffer, options) => file.read(buffer, options),
    readAlloc: (size, options) => file.readAlloc(size, options),
    truncate: (length) => Effect.andThen(log("truncate", path), file.truncate(length)),
    write: (buffer) => Effect.andThen(log("write", path, buffer.byteLength), file.write(buffer)),
    writeAll
  }
}
