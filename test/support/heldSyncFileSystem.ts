/**
 * A FileSystem over another one whose file syncs a test holds and releases by hand, and which
 * records, in call order, every open and every sync as it starts and as it ends.
 *
 * For tests of durability order: hold the syncs of one segment, let writes go on, and check what
 * the WAL does — or does not do — before each sync completes. Only syncs of files whose path the
 * gate's `holds` accepts are held; the rest (a directory sync, say) pass straight through.
 * Each `File` member is delegated explicitly: Node's file object defines `stat` and `sync` as
 * getters, which a spread would silently drop.
 */
import { basename } from "node:path"
import { Deferred, Effect, Exit, FileSystem, Layer } from "effect"

/** A sync the gate holds: it goes on to the real sync once released. */
export interface HeldSync {
  /** The file's name (not its whole path). */
  readonly name: string
  readonly release: Deferred.Deferred<void>
}

export class SyncGate {
  /** `open NAME FLAG`, `sync NAME` (started), `synced NAME` (the real sync returned), in call order. */
  readonly trace: Array<string> = []
  /** Every held sync, in the order they started. */
  readonly held: Array<HeldSync> = []
  private waiter: Deferred.Deferred<void> | undefined
  private holding = true
  private readonly matches: (path: string) => boolean

  constructor(holds: (path: string) => boolean) {
    this.matches = holds
  }

  /** Whether a sync of `path` is held (until `releaseAll`). */
  holds(path: string): boolean {
    return this.holding && this.matches(path)
  }

  /** Adds a line to the trace (a test may add its own, e.g. when a batch enters the appender). */
  record(line: string): void {
    this.trace.push(line)
    const waiter = this.waiter
    this.waiter = undefined
    if (waiter !== undefined) Deferred.doneUnsafe(waiter, Exit.void)
  }

  /** Waits, without polling, until `condition` holds; it is checked again at every trace line. */
  waitUntil(condition: () => boolean): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (condition()) return Effect.void
      const waiter = this.waiter ?? Deferred.makeUnsafe<void>()
      this.waiter = waiter
      return Effect.andThen(Deferred.await(waiter), this.waitUntil(condition))
    })
  }

  /** Lets held sync `index` (in start order) go on to the real sync. */
  release(index: number): Effect.Effect<void> {
    return Effect.suspend(() => {
      const held = this.held[index]
      if (held === undefined) return Effect.die(new Error(`no held sync ${index}`))
      return Deferred.succeed(held.release, undefined)
    })
  }

  /** Releases every held sync and holds none from now on. */
  releaseAll(): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.holding = false
      return Effect.forEach(this.held, (held) => Deferred.succeed(held.release, undefined), { discard: true })
    })
  }

  count(line: string): number {
    return this.trace.filter((entry) => entry === line).length
  }
}

export const heldSyncFileSystem = (real: FileSystem.FileSystem, gate: SyncGate): FileSystem.FileSystem =>
  FileSystem.FileSystem.of({
    ...real,
    open: (path, options) =>
      Effect.suspend(() => {
        gate.record(`open ${basename(path)} ${options?.flag ?? "r"}`)
        return Effect.map(real.open(path, options), (file) => holdingFile(file, path, gate))
      })
  })

// internals

const holdingFile = (file: FileSystem.File, path: string, gate: SyncGate): FileSystem.File => {
  const name = basename(path)
  const sync = Effect.suspend(() => {
    if (!gate.holds(path)) return file.sync
    const release = Deferred.makeUnsafe<void>()
    gate.held.push({ name, release })
    gate.record(`sync ${name}`)
    return Deferred.await(release).pipe(
      Effect.andThen(file.sync),
      Effect.tap(() => Effect.sync(() => gate.record(`synced ${name}`)))
    )
  })
  return {
    [FileSystem.FileTypeId]: FileSystem.FileTypeId,
    get stat() {
      return file.stat
    },
    seek: (offset, from) => file.seek(offset, from),
    sync,
    read: (buffer, options) => file.read(buffer, options),
    readAlloc: (size, options) => file.readAlloc(size, options),
    truncate: (length) => file.truncate(length),
    write: (buffer) => file.write(buffer),
    writeAll: (buffer) => file.writeAll(buffer)
  }
}

/** The FileSystem provided below it, with every sync `gate` holds going through the gate. */
export const heldSyncLayer = (gate: SyncGate) =>
  Layer.effect(
    FileSystem.FileSystem,
    Effect.gen(function* () {
      return heldSyncFileSystem(yield* FileSystem.FileSystem, gate)
    })
  )
