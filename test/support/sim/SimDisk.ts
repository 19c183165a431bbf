/**
 * A simulated disk that knows what is durable, for power-cut tests.
 *
 * A SIGKILL keeps the kernel's page cache, so it cannot show a missing or misordered sync. This
 * model can: every file has the bytes the process sees (the page cache) and the bytes a sync made
 * durable; every directory has the entries the process sees and those its last sync made durable,
 * plus the changes since, in order. `powerCut` builds, from a seeded generator, one way the disk
 * could look after the reboot:
 * - a file's unsynced bytes are lost, kept as a prefix, kept whole, or garbled (zeros, random
 *   bytes, flipped bits — anywhere in the unsynced range, so a later batch can survive an earlier
 *   one's damage, as page writeback allows);
 * - a directory keeps a random prefix of its changes since its last sync (a file whose name was
 *   never made durable is gone, whatever its own syncs);
 * - a sync still in flight at the cut either happened or did not.
 * After the cut the disk is dead: every call fails with EIO, so nothing the process does later can
 * be acknowledged. Any call can also be made to fail with EIO or ENOSPC on purpose.
 *
 * The process-facing FileSystem is in simFileSystem.ts; this file is the durability model.
 */
import type { Rng } from "./rng.ts"

export interface FileNode {
  readonly kind: "file"
  /** What the process sees: `data[0, size)`. */
  data: Uint8Array
  size: number
  /** Bumped by every change, so an older sync finishing late cannot undo a newer one. */
  version: number
  durable: Uint8Array
  durableVersion: number
}

export type DirOp =
  | { readonly op: "set"; readonly name: string; readonly node: Node }
  | { readonly op: "delete"; readonly name: string }

export interface DirNode {
  readonly kind: "dir"
  readonly entries: Map<string, Node>
  durableEntries: Map<string, Node>
  /** Changes to `entries` since the last sync of this directory, oldest first. */
  pending: Array<DirOp>
}

export type Node = FileNode | DirNode

/** A disk as it is after a reboot: every path, a file's bytes or `"dir"`. */
export type DiskImage = ReadonlyMap<string, Uint8Array | "dir">

/** A sync that has started and not yet returned. */
export interface InFlightSync {
  readonly apply: () => void
}

export const makeFile = (bytes: Uint8Array = new Uint8Array(0)): FileNode => ({
  kind: "file",
  data: bytes.slice(),
  size: bytes.byteLength,
  version: 0,
  durable: bytes.slice(),
  durableVersion: 0
})

export const makeDir = (): DirNode => ({
  kind: "dir",
  entries: new Map(),
  durableEntries: new Map(),
  pending: []
})

export const fileBytes = (file: FileNode): Uint8Array => file.data.subarray(0, file.size)

/** Writes `bytes` at `position`, growing the file as needed (the page cache only). */
export const writeAt = (file: FileNode, position: number, bytes: Uint8Array): void => {
  const end = position + bytes.byteLength
  if (end > file.data.byteLength) {
    const grown = new Uint8Array(Math.max(end, file.data.byteLength * 2, 256))
    grown.set(fileBytes(file))
    file.data = grown
  }
  if (position > file.size) file.data.fill(0, file.size, position)
  file.data.set(bytes, position)
  file.size = Math.max(file.size, end)
  file.version++
}

export const truncateTo = (file: FileNode, length: number): void => {
  if (length > file.size) writeAt(file, file.size, new Uint8Array(length - file.size))
  file.size = length
  file.version++
}

/** Starts a sync of `file`: what it will make durable is what the process sees now. */
export const startFileSync = (file: FileNode): InFlightSync => {
  const snapshot = fileBytes(file).slice()
  const version = file.version
  return {
    apply: () => {
      if (version < file.durableVersion) return
      file.durable = snapshot
      file.durableVersion = version
    }
  }
}

/** Starts a sync of `dir`: it makes durable the changes made so far. */
export const startDirSync = (dir: DirNode): InFlightSync => {
  const upTo = dir.pending.slice()
  return {
    apply: () => {
      const index = upTo.length
      if (dir.pending.slice(0, index).some((op, i) => op !== upTo[i])) return
      dir.durableEntries = applyOps(dir.durableEntries, upTo)
      dir.pending = dir.pending.slice(index)
    }
  }
}

export const setEntry = (dir: DirNode, name: string, node: Node): void => {
  dir.entries.set(name, node)
  dir.pending.push({ op: "set", name, node })
}

export const deleteEntry = (dir: DirNode, name: string): void => {
  dir.entries.delete(name)
  dir.pending.push({ op: "delete", name })
}

/**
 * One way the disk could look after a power cut now: in-flight syncs done or not, then for every
 * directory a random prefix of its unsynced changes and for every file a random fate of its
 * unsynced bytes. Only what is reachable from the root through durable entries remains.
 */
export const powerCutImage = (root: DirNode, inFlight: ReadonlyArray<InFlightSync>, rng: Rng): DiskImage => {
  for (const sync of inFlight) if (rng.chance(0.5)) sync.apply()
  const image = new Map<string, Uint8Array | "dir">()
  const fates = new Map<FileNode, Uint8Array>()
  const visit = (dir: DirNode, at: string): void => {
    image.set(at, "dir")
    const kept = applyOps(dir.durableEntries, dir.pending.slice(0, rng.int(0, dir.pending.length)))
    for (const name of [...kept.keys()].sort()) {
      const node = kept.get(name) as Node
      const child = at === "/" ? `/${name}` : `${at}/${name}`
      if (node.kind === "dir") visit(node, child)
      else {
        // Hard links aside (none here), a file reached twice keeps one fate.
        const bytes = fates.get(node) ?? afterCut(node, rng)
        fates.set(node, bytes)
        image.set(child, bytes)
      }
    }
  }
  visit(root, "/")
  return image
}

/** A disk whose every byte and entry is durable: the state right after a reboot. */
export const rootFromImage = (image: DiskImage): DirNode => {
  const root = makeDir()
  for (const [at, content] of [...image.entries()].sort(
    ([a], [b]) => a.split("/").length - b.split("/").length
  )) {
    if (at === "/") continue
    const slash = at.lastIndexOf("/")
    const parent = findDir(root, at.slice(0, slash) || "/")
    if (parent === undefined) throw new Error(`image without parent of ${at}`)
    const node: Node = content === "dir" ? makeDir() : makeFile(content)
    parent.entries.set(at.slice(slash + 1), node)
    parent.durableEntries.set(at.slice(slash + 1), node)
  }
  return root
}

export const findNode = (root: DirNode, at: string): Node | undefined => {
  let node: Node = root
  for (const part of at.split("/")) {
    if (part === "" || part === ".") continue
    if (node.kind !== "dir") return undefined
    const next: Node | undefined = node.entries.get(part)
    if (next === undefined) return undefined
    node = next
  }
  return node
}

export const findDir = (root: DirNode, at: string): DirNode | undefined => {
  const node = findNode(root, at)
  return node?.kind === "dir" ? node : undefined
}

// internals

const applyOps = (entries: ReadonlyMap<string, Node>, ops: ReadonlyArray<DirOp>): Map<string, Node> => {
  const result = new Map(entries)
  for (const op of ops) {
    if (op.op === "set") result.set(op.name, op.node)
    else result.delete(op.name)
  }
  return result
}

/** The bytes of a file after the cut: durable ones, plus its unsynced bytes lost, cut, kept or garbled. */
const afterCut = (file: FileNode, rng: Rng): Uint8Array => {
  const durable = file.durable
  const current = fileBytes(file)
  if (sameBytes(durable, current)) return durable.slice()
  const appended =
    current.byteLength >= durable.byteLength && sameBytes(durable, current.subarray(0, durable.byteLength))
  switch (rng.int(0, 3)) {
    case 0:
      return durable.slice()
    case 1:
      return current.slice()
    case 2:
      return appended
        ? current.slice(0, rng.int(durable.byteLength, current.byteLength))
        : rng.pick([durable, current]).slice()
    default: {
      const base = appended
        ? current.slice(0, rng.int(durable.byteLength, current.byteLength))
        : current.slice()
      // Only bytes that changed since the sync can be damaged: a sector the disk did not write
      // still holds what it held.
      const from = commonPrefixBytes(durable, base)
      if (base.byteLength > from) garble(base, from, rng)
      return base
    }
  }
}

/** Damages 1–3 random ranges of `bytes[from..]`: zeros, random bytes or one flipped bit. */
const garble = (bytes: Uint8Array, from: number, rng: Rng): void => {
  const damages = rng.int(1, 3)
  for (let d = 0; d < damages; d++) {
    const start = rng.int(from, bytes.byteLength - 1)
    const end = rng.int(start + 1, Math.min(bytes.byteLength, start + 1 + rng.int(1, 200)))
    switch (rng.int(0, 2)) {
      case 0:
        bytes.fill(0, start, end)
        break
      case 1:
        for (let i = start; i < end; i++) bytes[i] = rng.int(0, 255)
        break
      default:
        bytes[start] = (bytes[start] as number) ^ (1 << rng.int(0, 7))
    }
  }
}

const commonPrefixBytes = (a: Uint8Array, b: Uint8Array): number => {
  const length = Math.min(a.byteLength, b.byteLength)
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i
  return length
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}
