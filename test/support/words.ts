/**
 * Deterministic pseudo-random u32 words (xorshift32): cheap stand-ins for dedup keys in size
 * tests and benchmarks, where hashing millions of records would measure the hash instead.
 */
export const xorshiftWords = (seed: number): (() => number) => {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x
  }
}
