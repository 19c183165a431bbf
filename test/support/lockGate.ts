/**
 * A FileSystem over Node's whose k-th operation (counting every FileSystem call and every call on
 * a file it opened, in the order they run) stops at a gate: the test learns it was reached, can
 * interrupt the fiber parked there, and then lets it through. This places an interruption at each
 * asynchronous step of `open` in turn — the only places an interruption can land.
 *
 * Letting it through matters inside uninterruptible regions (acquireRelease's acquire): there the
 * interruption waits until the region ends, which needs the gated step to finish.
 */
import { NodeFileSystem, NodePath } from "@effect/platform-node"
import { Deferred, Effect, FileSystem, Layer } from "effect"

export interface Gate {
  /** Completed when the gated operation starts. */
  readonly reached: Deferred.Deferred<void>
  /** Complete it to let the gated operation run. */
  readonly open: Deferred.Deferred<void>
  /** Operations run so far, the gated one included. */
  readonly count: () => number
}

/** A gate at the `atOperation`-th operation (1-based), and the layer that applies it. */
export const gateAt = (atOperation: number) =>
  Effect.gen(function* () {
    const reached = yield* Deferred.make<void>()
    const open = yield* Deferred.make<void>()
    let operations = 0
    const gate: Gate = { reached, open, count: () => operations }
    const pass = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.suspend(() => {
        operations++
        if (operations !== atOperation) return effect
        return Deferred.succeed(reached, undefined).pipe(
          Effect.andThen(Deferred.await(open)),
          Effect.andThen(effect)
        )
      })
    const layer = Layer.mergeAll(
      Layer.effect(
        FileSystem.FileSystem,
        Effect.map(FileSystem.FileSystem, (real) => gated(real, pass))
      ).pipe(Layer.provide(NodeFileSystem.layer)),
      NodePath.layer
    )
    return { gate, layer }
  })

// internals

type Pass = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

/**
 * Every member that is an effect, or a function returning one, goes through `pass`; a File that
 * comes out of an effect is gated the same way. A Proxy, so that getters (`stat`, `sync` on
 * Node's File) are read on the real object.
 */
const gated = <T extends object>(real: T, pass: Pass): T =>
  new Proxy(real, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target)
      if (Effect.isEffect(value)) return pass(value).pipe(Effect.map((out) => gateFile(out, pass)))
      if (typeof value !== "function") return value
      return (...args: Array<unknown>) => {
        const result: unknown = Reflect.apply(value, target, args)
        return Effect.isEffect(result) ? pass(result).pipe(Effect.map((out) => gateFile(out, pass))) : result
      }
    }
  })

const gateFile = (value: unknown, pass: Pass): unknown =>
  typeof value === "object" && value !== null && FileSystem.FileTypeId in value ? gated(value, pass) : value
