/**
 * The simulated disk (SimDisk.ts) as an Effect `FileSystem`, with power cuts, process kills and
 * injected faults wired to its calls.
 *
 * Every call counts. When the count reaches `cutAtCall`, the power goes: the image after the cut
 * is taken, and that call and every later one fail with EIO — the process may go on running, but
 * nothing it does from then on reaches the disk or can be acknowledged. A sync yields to other
 * fibers before it completes, so other work (and the cut) can happen while it is in flight.
 *
 * A process kill (`killAtCall`, `killOn`, `killAfter`, or `processKill()`) ends one life of the process and
 * keeps the disk: the page cache survives, so the next life (`nextLife`, a new `fileSystem`) sees
 * every byte and name the killed one wrote, synced or not, while only what was synced survives a
 * later power cut. Every call the killed life still makes, through its file system or the file
 * handles it holds, fails with EIO and changes nothing. A sync in flight at the kill may or may
 * not have reached the disk, as the kernel may or may not have finished it.
 *
 * Only what the WAL uses is modelled (absolute POSIX paths, no symlinks): open with r, r+, a, w
 * and wx (counted as method `create`), read, write, seek, sync, truncate, stat, readDirectory, makeDirectory, rename, remove,
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

/** Which call: the method (`writeAll`, `sync`, `open`, `rename`, …) and a path suffix to match. */
export interface SimTrigger {
  readonly method: string
  readonly pathEndsWith: string
  /** Let this many matching calls through first. */
  readonly skip: number
}

export interface SimFault extends SimTrigger {
  readonly errno: Errno
}

/** What happens in one life of the process: where it ends, and which calls fail. */
export interface SimOptions {
  /** The call of this life (counting from 1) at which the power is cut; never when undefined. */
  readonly cutAtCall?: number | undefined
  /** The call of this life (counting from 1) at which the process is killed; never when undefined. */
  readonly killAtCall?: number | undefined
  /** The process is killed at the first call matching this (that call does not happen). */
  readonly killOn?: SimTrigger | undefined
  /** The process is killed at the call after the first one matching this (which does happen). */
  readonly killAfter?: SimTrigger | undefined
  readonly faults?: ReadonlyArray<SimFault> | undefined
}

export class SimulatedDisk {
  /** The same disk seen without counting calls, cuts, kills or faults: for a test to check what is there. */
  readonly inspection: FileSystem.FileSystem
  /** Every call, in order (`method path`): two runs of one seed must give the same trace. */
  readonly trace: Array<string> = []
  private readonly root: DirNode
  private readonly inFlight = new Map<InFlightSync, number>()
  private faults: Array<SimFault & { seen: number }> = []
  private killOnSeen = 0
  private killAfterSeen = 0
  private killAtNextCall = false
  private calls = 0
  private cut: DiskImage | undefined
  /** The current life of the process; a killed life's calls fail. */
  private life = 0
  private killed = false
  private lifeFileSystem: FileSystem.FileSystem
  private readonly rng: Rng
  private options: SimOptions

  constructor(image: DiskImage, rng: Rng, options: SimOptions = {}) {
    this.rng = rng
    this.options = options
    this.root = rootFromImage(image)
    this.faults = (options.faults ?? []).map((fault) => ({ ...fault, seen: 0 }))
    this.lifeFileSystem = this.makeLifeFileSystem()
    this.inspection = makeFileSystem(this, () => Effect.void, -1)
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

  /** The file system of the current life of the process. */
  get fileSystem(): FileSystem.FileSystem {
    return this.lifeFileSystem
  }

  /** Calls made in the current life. */
  get callCount(): number {
    return this.calls
  }

  get isCut(): boolean {
    return this.cut !== undefined
  }

  /** Whether the current life of the process was killed. */
  get isKilled(): boolean {
    return this.killed
  }

  /** Cuts the power now if it has not been cut yet; returns what the disk holds after the reboot. */
  powerCut(): DiskImage {
    if (this.cut === undefined) {
      this.cut = powerCutImage(this.root, [...this.inFlight.keys()], this.rng)
      this.trace.push("-- power cut")
    }
    return this.cut
  }

  /**
   * Kills the current life of the process now: its calls fail from here on; each sync it has in
   * flight reaches the disk or not. The page cache stays.
   */
  processKill(): void {
    if (this.killed || this.cut !== undefined) return
    this.killed = true
    this.trace.push("-- process kill")
    for (const [sync, life] of this.inFlight) {
      if (life !== this.life) continue
      this.inFlight.delete(sync)
      if (this.rng.chance(0.5)) sync.apply()
    }
  }

  /** Starts the next life of the process on this disk, after a kill: a new `fileSystem`, calls counted from 0. */
  nextLife(options: SimOptions = {}): void {
    if (this.cut !== undefined) throw new Error("the power was cut: make a new disk from the image")
    this.processKill()
    this.life++
    this.killed = false
    this.calls = 0
    this.options = options
    this.faults = (options.faults ?? []).map((fault) => ({ ...fault, seen: 0 }))
    this.killOnSeen = 0
    this.killAfterSeen = 0
    this.killAtNextCall = false
    this.lifeFileSystem = this.makeLifeFileSystem()
  }

  /** Counts a call of life `life`; fails it if that life was killed, the power is (now) cut or a fault matches. */
  step(life: number, method: string, at: string): Effect.Effect<void, PlatformError.PlatformError> {
    return Effect.suspend(() => {
      if (life !== this.life || this.killed) {
        this.trace.push(`dead ${method} ${at}`)
        return Effect.fail(errnoError("EIO", method, at))
      }
      this.calls++
      this.trace.push(`${method} ${at}`)
      if (this.cut === undefined && this.options.cutAtCall === this.calls) this.powerCut()
      if (this.cut !== undefined) return Effect.fail(errnoError("EIO", method, at))
      if (
        this.options.killAtCall === this.calls ||
        this.killAtNextCall ||
        this.matches(this.options.killOn, "killOnSeen", method, at)
      ) {
        this.processKill()
        return Effect.fail(errnoError("EIO", method, at))
      }
      this.killAtNextCall = this.matches(this.options.killAfter, "killAfterSeen", method, at)
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

  /** A sync of life `life`: starts now, yields (other fibers run, the power may go), then completes. */
  sync(
    step: Step,
    life: number,
    method: string,
    at: string,
    start: () => InFlightSync
  ): Effect.Effect<void, PlatformError.PlatformError> {
    const disk = this
    return Effect.gen(function* () {
      yield* step(method, at)
      const sync = start()
      disk.inFlight.set(sync, life)
      const yields = disk.rng.int(0, 2)
      for (let i = 0; i < yields; i++) yield* Effect.yieldNow
      // Settled by the cut or the kill if either came meanwhile: either way, the caller never hears.
      const stillInFlight = disk.inFlight.delete(sync)
      if (disk.cut !== undefined || !stillInFlight) return yield* errnoError("EIO", method, at)
      sync.apply()
      disk.trace.push(`synced ${at}`)
    })
  }

  /** Whether this call is the one `trigger` waits for (counting matches in `seen`). */
  private matches(
    trigger: SimTrigger | undefined,
    seen: "killOnSeen" | "killAfterSeen",
    method: string,
    at: string
  ): boolean {
    if (trigger === undefined || trigger.method !== method || !at.endsWith(trigger.pathEndsWith)) return false
    return this[seen]++ === trigger.skip
  }

  private makeLifeFileSystem(): FileSystem.FileSystem {
    const life = this.life
    return makeFileSystem(this, (method, at) => this.step(life, method, at), life)
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

const makeFileSystem = (disk: SimulatedDisk, step: Step, life: number): Fs => {
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
      Effect.scoped(Effect.flatMap(open(disk, step, life, at, "w"), (file) => file.writeAll(data))),
    open: (at, options) => open(disk, step, life, at, options?.flag ?? "r")
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

const open = (disk: SimulatedDisk, step: Step, life: number, at: string, flag: FileSystem.OpenFlag) =>
  // An exclusive create is its own method, so a trigger can pick a segment's creation.
  Effect.flatMap(step(flag === "wx" ? "create" : "open", at), () => {
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
        ? Effect.succeed(dirHandle(disk, step, life, at, node))
        : Effect.fail(errnoError("EISDIR", "open", at))
    }
    if (flag === "w") truncateTo(node, 0)
    return Effect.succeed(fileHandle(disk, step, life, at, node, flag === "a"))
  })

const unsupported = (method: string, at: string) =>
  Effect.fail(errnoError("EIO", `${method} (not simulated)`, at))

const dirHandle = (
  disk: SimulatedDisk,
  step: Step,
  life: number,
  at: string,
  dir: DirNode
): FileSystem.File => ({
  [FileSystem.FileTypeId]: FileSystem.FileTypeId,
  stat: Effect.map(step("fstat", at), () => info(dir)),
  seek: () => unsupported("seek", at),
  sync: disk.sync(step, life, "syncDirectory", at, () => startDirSync(dir)),
  read: () => Effect.fail(errnoError("EISDIR", "read", at)),
  readAlloc: () => Effect.fail(errnoError("EISDIR", "readAlloc", at)),
  truncate: () => Effect.fail(errnoError("EISDIR", "truncate", at)),
  write: () => Effect.fail(errnoError("EISDIR", "write", at)),
  writeAll: () => Effect.fail(errnoError("EISDIR", "writeAll", at))
})

const fileHandle = (
  disk: SimulatedDisk,
  step: Step,
  life: number,
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
    sync: disk.sync(step, life, "sync", at, () => startFileSync(file)),
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
