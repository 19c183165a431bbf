/**
 * The simulated disk (SimDisk.ts) as an Effect `FileSystem`, with the power cut and injected
 * faults wired to its calls.
 *
 * Every call counts. When the count reaches `cutAtCall`, the power goes: the image after the cut
 * is taken, and that call and every later one fail with EIO — the process may go on running, but
 * nothing it does from then on reaches the disk or can be acknowledged. A sync yields to other
 * fibers before it completes, so other work (and the cut) can happen while it is in flight.
 *
 * Only what the WAL uses is modelled (absolute POSIX paths, no symlinks): open with r, r+, a, w
 * and wx, read, write, sync, truncate, stat, readDirectory, makeDirectory, rename, remove,
 * readFile, realPath.
 */
import { ByteSize, Effect, FileSystem, Option, PlatformError } from "effect"
import type { Rng } from "./rng.ts"
import {
  type DirNode,
  type DiskImage,
  deleteEntry,
  type FileNode,
  fileBytes,
  findDir,
  findNode,
  type InFlightSync,
  makeDir,
  makeFile,
  type Node,
  powerCutImage,
  rootFromImage,
  setEntry,
  startDirSync,
  startFileSync,
  truncateTo,
  writeAt
} from "./SimDisk.ts"

export type Errno = "EIO" | "ENOSPC"

export interface SimFault {
  /** The method (`writeAll`, `sync`, `open`, `rename`, …) and a path suffix to match. */
  readonly method: string
  readonly pathEndsWith: string
  /** Let this many matching calls through first. */
  readonly skip: number
  readonly errno: Errno
}

export interface SimOptions {
  /** The call (counting from 1) at which the power is cut; never when undefined. */
  readonly cutAtCall?: number | undefined
  readonly faults?: ReadonlyArray<SimFault> | undefined
}

export class SimulatedDisk {
  readonly fileSystem: FileSystem.FileSystem
  /** The same disk seen without counting calls, cuts or faults: for a test to check what is there. */
  readonly inspection: FileSystem.FileSystem
  /** Every call, in order (`method path`): two runs of one seed must give the same trace. */
  readonly trace: Array<string> = []
  private readonly root: DirNode
  private readonly inFlight = new Set<InFlightSync>()
  private readonly faults: Array<SimFault & { seen: number }>
  private calls = 0
  private cut: DiskImage | undefined

  private readonly rng: Rng
  private readonly options: SimOptions

  constructor(image: DiskImage, rng: Rng, options: SimOptions = {}) {
    this.rng = rng
    this.options = options
    this.root = rootFromImage(image)
    this.faults = (options.faults ?? []).map((fault) => ({ ...fault, seen: 0 }))
    this.fileSystem = makeFileSystem(this, (method, at) => this.step(method, at))
    this.inspection = makeFileSystem(this, () => Effect.void)
  }

  /** A disk with just the given directories, all durable. */
  static withDirectories(dirs: ReadonlyArray<string>, rng: Rng, options?: SimOptions): SimulatedDisk {
    const image = new Map<string, "dir">([["/", "dir"]])
    for (const dir of dirs) {
      const parts = dir.split("/").filter((p) => p !== "")
      for (let i = 1; i <= parts.length; i++) image.set(`/${parts.slice(0, i).join("/")}`, "dir")
    }
    return new SimulatedDisk(image, rng, options)
  }

  get callCount(): number {
    return this.calls
  }

  get isCut(): boolean {
    return this.cut !== undefined
  }

  /** Cuts the power now if it has not been cut yet; returns what the disk holds after the reboot. */
  powerCut(): DiskImage {
    if (this.cut === undefined) this.cut = powerCutImage(this.root, [...this.inFlight], this.rng)
    return this.cut
  }

  /** Counts a call; fails it if the power is (now) cut or a fault matches. */
  step(method: string, at: string): Effect.Effect<void, PlatformError.PlatformError> {
    return Effect.suspend(() => {
      this.calls++
      this.trace.push(`${method} ${at}`)
      if (this.cut === undefined && this.options.cutAtCall === this.calls) this.powerCut()
      if (this.cut !== undefined) return Effect.fail(errnoError("EIO", method, at))
      for (const fault of this.faults) {
        if (fault.method !== method || !at.endsWith(fault.pathEndsWith)) continue
        if (fault.seen++ === fault.skip) return Effect.fail(errnoError(fault.errno, method, at))
      }
      return Effect.void
    })
  }

  node(at: string): Node | undefined {
    return findNode(this.root, at)
  }

  parentOf(at: string): { readonly dir: DirNode; readonly name: string } | undefined {
    const slash = at.lastIndexOf("/")
    const dir = findDir(this.root, at.slice(0, slash) || "/")
    const name = at.slice(slash + 1)
    return dir === undefined || name === "" ? undefined : { dir, name }
  }

  /** A sync: starts now, yields (other fibers run, the power may go), then completes. */
  sync(
    step: Step,
    method: string,
    at: string,
    start: () => InFlightSync
  ): Effect.Effect<void, PlatformError.PlatformError> {
    const disk = this
    return Effect.gen(function* () {
      yield* step(method, at)
      const sync = start()
      disk.inFlight.add(sync)
      const yields = disk.rng.int(0, 2)
      for (let i = 0; i < yields; i++) yield* Effect.yieldNow
      disk.inFlight.delete(sync)
      if (disk.cut !== undefined) return yield* errnoError("EIO", method, at)
      sync.apply()
      disk.trace.push(`synced ${at}`)
    })
  }
}

// internals

type Fs = FileSystem.FileSystem
type Step = (method: string, at: string) => Effect.Effect<void, PlatformError.PlatformError>

const errnoError = (
  errno: Errno | "ENOENT" | "EEXIST" | "EISDIR" | "ENOTDIR" | "ENOTEMPTY",
  method: string,
  at: string
) =>
  PlatformError.systemError({
    _tag: errno === "ENOENT" ? "NotFound" : errno === "EEXIST" ? "AlreadyExists" : "Unknown",
    module: "FileSystem",
    method,
    description: `${errno}: simulated`,
    pathOrDescriptor: at,
    cause: Object.assign(new Error(`${errno}: simulated, ${method} '${at}'`), { code: errno })
  })

const info = (node: Node): FileSystem.File.Info => ({
  type: node.kind === "dir" ? "Directory" : "File",
  mtime: Option.none(),
  atime: Option.none(),
  birthtime: Option.none(),
  dev: 0n,
  ino: Option.none(),
  mode: node.kind === "dir" ? 0o40755 : 0o100644,
  nlink: Option.none(),
  uid: Option.none(),
  gid: Option.none(),
  rdev: Option.none(),
  size: ByteSize.bytes(node.kind === "dir" ? 4096 : node.size),
  blksize: Option.none(),
  blocks: Option.none()
})

const makeFileSystem = (disk: SimulatedDisk, step: Step): Fs => {
  const existing = (method: string, at: string) =>
    Effect.flatMap(step(method, at), () => {
      const node = disk.node(at)
      return node === undefined ? Effect.fail(errnoError("ENOENT", method, at)) : Effect.succeed(node)
    })
  return FileSystem.makeNoop({
    access: (at) => Effect.asVoid(existing("access", at)),
    exists: (at) => Effect.map(step("exists", at), () => disk.node(at) !== undefined),
    stat: (at) => Effect.map(existing("stat", at), info),
    realPath: (at) => Effect.as(existing("realPath", at), at),
    readDirectory: (at) =>
      Effect.flatMap(existing("readDirectory", at), (node) =>
        node.kind === "dir"
          ? Effect.succeed([...node.entries.keys()].sort())
          : Effect.fail(errnoError("ENOTDIR", "readDirectory", at))
      ),
    readFile: (at) =>
      Effect.flatMap(existing("readFile", at), (node) =>
        node.kind === "file"
          ? Effect.succeed(fileBytes(node).slice())
          : Effect.fail(errnoError("EISDIR", "readFile", at))
      ),
    makeDirectory: (at, options) => makeDirectory(disk, step, at, options?.recursive === true),
    rename: (from, to) => rename(disk, step, from, to),
    remove: (at, options) => remove(disk, step, at, options?.recursive === true),
    truncate: (at, length) =>
      Effect.flatMap(existing("truncate", at), (node) =>
        node.kind === "file"
          ? Effect.sync(() => truncateTo(node, length ?? 0))
          : Effect.fail(errnoError("EISDIR", "truncate", at))
      ),
    writeFile: (at, data) =>
      Effect.scoped(Effect.flatMap(open(disk, step, at, "w"), (file) => file.writeAll(data))),
    open: (at, options) => open(disk, step, at, options?.flag ?? "r")
  })
}

const makeDirectory = (disk: SimulatedDisk, step: Step, at: string, recursive: boolean) =>
  Effect.flatMap(step("makeDirectory", at), () => {
    const parts = at.split("/").filter((p) => p !== "")
    for (let i = 1; i <= parts.length; i++) {
      const prefix = `/${parts.slice(0, i).join("/")}`
      const node = disk.node(prefix)
      if (node?.kind === "file") return Effect.fail(errnoError("ENOTDIR", "makeDirectory", prefix))
      if (node !== undefined) {
        if (i === parts.length && !recursive) return Effect.fail(errnoError("EEXIST", "makeDirectory", at))
        continue
      }
      if (i < parts.length && !recursive) return Effect.fail(errnoError("ENOENT", "makeDirectory", at))
      const parent = disk.parentOf(prefix)
      if (parent === undefined) return Effect.fail(errnoError("ENOENT", "makeDirectory", at))
      setEntry(parent.dir, parent.name, makeDir())
    }
    return Effect.void
  })

const rename = (disk: SimulatedDisk, step: Step, from: string, to: string) =>
  Effect.flatMap(step("rename", to), () => {
    const source = disk.parentOf(from)
    const target = disk.parentOf(to)
    const node = source?.dir.entries.get(source.name)
    if (source === undefined || target === undefined || node === undefined)
      return Effect.fail(errnoError("ENOENT", "rename", from))
    deleteEntry(source.dir, source.name)
    setEntry(target.dir, target.name, node)
    return Effect.void
  })

const remove = (disk: SimulatedDisk, step: Step, at: string, recursive: boolean) =>
  Effect.flatMap(step("remove", at), () => {
    const parent = disk.parentOf(at)
    const node = parent?.dir.entries.get(parent.name)
    if (parent === undefined || node === undefined) return Effect.fail(errnoError("ENOENT", "remove", at))
    if (node.kind === "dir" && node.entries.size > 0 && !recursive)
      return Effect.fail(errnoError("ENOTEMPTY", "remove", at))
    deleteEntry(parent.dir, parent.name)
    return Effect.void
  })

const open = (disk: SimulatedDisk, step: Step, at: string, flag: FileSystem.OpenFlag) =>
  Effect.flatMap(step("open", at), () => {
    let node = disk.node(at)
    if (node !== undefined && flag === "wx") return Effect.fail(errnoError("EEXIST", "open", at))
    if (node === undefined) {
      const parent = disk.parentOf(at)
      if (parent === undefined || flag === "r" || flag === "r+")
        return Effect.fail(errnoError("ENOENT", "open", at))
      node = makeFile()
      setEntry(parent.dir, parent.name, node)
    }
    if (node.kind === "dir") {
      return flag === "r"
        ? Effect.succeed(dirHandle(disk, step, at, node))
        : Effect.fail(errnoError("EISDIR", "open", at))
    }
    if (flag === "w") truncateTo(node, 0)
    return Effect.succeed(fileHandle(disk, step, at, node, flag === "a"))
  })

const unsupported = (method: string, at: string) =>
  Effect.fail(errnoError("EIO", `${method} (not simulated)`, at))

const dirHandle = (disk: SimulatedDisk, step: Step, at: string, dir: DirNode): FileSystem.File => ({
  [FileSystem.FileTypeId]: FileSystem.FileTypeId,
  stat: Effect.map(step("fstat", at), () => info(dir)),
  seek: () => unsupported("seek", at),
  sync: disk.sync(step, "syncDirectory", at, () => startDirSync(dir)),
  read: () => Effect.fail(errnoError("EISDIR", "read", at)),
  readAlloc: () => Effect.fail(errnoError("EISDIR", "readAlloc", at)),
  truncate: () => Effect.fail(errnoError("EISDIR", "truncate", at)),
  write: () => Effect.fail(errnoError("EISDIR", "write", at)),
  writeAll: () => Effect.fail(errnoError("EISDIR", "writeAll", at))
})

const fileHandle = (
  disk: SimulatedDisk,
  step: Step,
  at: string,
  file: FileNode,
  appendOnly: boolean
): FileSystem.File => {
  let position = 0
  const write = (buffer: Uint8Array) =>
    Effect.map(step("writeAll", at), () => {
      const offset = appendOnly ? file.size : position
      writeAt(file, offset, buffer)
      position = offset + buffer.byteLength
      return buffer.byteLength
    })
  const read = (buffer: Uint8Array, options?: FileSystem.File.ReadOptions) =>
    Effect.map(step("read", at), () => {
      const from = options?.position === undefined ? position : Number(options.position)
      const bytes = fileBytes(file).subarray(from, from + buffer.byteLength)
      buffer.set(bytes)
      if (options?.position === undefined) position += bytes.byteLength
      return bytes.byteLength
    })
  return {
    [FileSystem.FileTypeId]: FileSystem.FileTypeId,
    stat: Effect.map(step("fstat", at), () => info(file)),
    seek: (offset) => Effect.sync(() => (position = Number(offset))).pipe(Effect.as(offset)),
    sync: disk.sync(step, "sync", at, () => startFileSync(file)),
    read,
    readAlloc: (size, options) =>
      Effect.suspend(() => {
        const buffer = new Uint8Array(size)
        return Effect.map(read(buffer, options), (n) =>
          n === 0 ? Option.none() : Option.some(buffer.subarray(0, n))
        )
      }),
    truncate: (length) => Effect.map(step("ftruncate", at), () => truncateTo(file, length ?? 0)),
    write,
    writeAll: (buffer) => Effect.asVoid(write(buffer))
  }
}
