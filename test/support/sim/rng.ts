/**
 * A seeded pseudo-random generator (mulberry32) for simulations: every choice of a run follows
 * from its seed, so a failing seed reruns exactly.
 */
export interface Rng {
  readonly seed: number
  /** A uniform float in [0, 1). */
  readonly next: () => number
  /** A uniform integer in [min, max] (both inclusive); `min` when max < min. */
  readonly int: (min: number, max: number) => number
  readonly chance: (probability: number) => boolean
  readonly pick: <A>(items: ReadonlyArray<A>) => A
}

export const makeRng = (seed: number): Rng => {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (min: number, max: number): number =>
    max <= min ? min : min + Math.floor(next() * (max - min + 1))
  return {
    seed,
    next,
    int,
    chance: (probability) => next() < probability,
    pick: <A>(items: ReadonlyArray<A>): A => {
      if (items.length === 0) throw new Error("pick from an empty list")
      return items[int(0, items.length - 1)] as A
    }
  }
}
