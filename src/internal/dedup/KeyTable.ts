/**
 * A set of 128-bit keys in open addressing over one `Uint32Array`: 16 bytes a slot, no objects.
 *
 * A JS `Set<string>` costs 53–66 bytes a key and throws past 2^24 entries; this table stays under
 * 40 bytes a key at any size from a few thousand keys on (grown at 3/4 load, so the load after a
 * growth is 3/8) and has no cap short of memory. Keys are BLAKE3 output, already uniform, so
 * their first word is the hash. The all-zero key marks an empty slot and is tracked on the side.
 */

const WORDS_PER_KEY = 4
const MIN_CAPACITY = 16

export class KeyTable {
  private slots: Uint32Array
  private mask: number
  private count = 0
  /** What `prefetch` read, kept so that the compiler cannot drop the loads as unused. */
  private touched = 0
  private hasZeroKey = false
  private readonly initialCapacity: number

  constructor(initialCapacity = 1024) {
    this.initialCapacity = nextPowerOfTwo(Math.max(MIN_CAPACITY, initialCapacity))
    this.slots = new Uint32Array(this.initialCapacity * WORDS_PER_KEY)
    this.mask = this.initialCapacity - 1
  }

  get size(): number {
    return this.count + (this.hasZeroKey ? 1 : 0)
  }

  /** Bytes held by the table's storage. */
  get retainedBytes(): number {
    return this.slots.byteLength
  }

  /** Whether the key made of words a, b, c, d (its bytes read as little-endian u32s) is present. */
  has(a: number, b: number, c: number, d: number): boolean {
    if ((a | b | c | d) === 0) return this.hasZeroKey
    const slots = this.slots
    let slot = a & this.mask
    while (true) {
      const base = slot * WORDS_PER_KEY
      const sa = slots[base] as number
      const sb = slots[base + 1] as number
      const sc = slots[base + 2] as number
      const sd = slots[base + 3] as number
      if ((sa | sb | sc | sd) === 0) return false
      if (sa === a >>> 0 && sb === b >>> 0 && sc === c >>> 0 && sd === d >>> 0) return true
      slot = (slot + 1) & this.mask
    }
  }

  /** Adds the key; returns false if it was already present. */
  add(a: number, b: number, c: number, d: number): boolean {
    if ((a | b | c | d) === 0) {
      const added = !this.hasZeroKey
      this.hasZeroKey = true
      return added
    }
    if ((this.count + 1) * 4 > (this.mask + 1) * 3) this.grow()
    const added = insert(this.slots, this.mask, a >>> 0, b >>> 0, c >>> 0, d >>> 0)
    if (added) this.count++
    return added
  }

  /** `has` for key `index` of `keys`, an array of 4-word keys. */
  hasKey(keys: Uint32Array, index: number): boolean {
    const base = index * WORDS_PER_KEY
    return this.has(
      keys[base] as number,
      keys[base + 1] as number,
      keys[base + 2] as number,
      keys[base + 3] as number
    )
  }

  /** `add` for key `index` of `keys`, an array of 4-word keys. */
  addKey(keys: Uint32Array, index: number): boolean {
    const base = index * WORDS_PER_KEY
    return this.add(
      keys[base] as number,
      keys[base + 1] as number,
      keys[base + 2] as number,
      keys[base + 3] as number
    )
  }

  /**
   * Reads the home slot of keys `0 .. count - 1` of `keys`: loads that depend on nothing and on
   * which nothing branches, so the CPU overlaps their cache misses (a large table misses on almost
   * every probe); the lookups that follow then find their slots in cache.
   */
  prefetch(keys: Uint32Array, count: number): void {
    const slots = this.slots
    const mask = this.mask
    let touched = 0
    for (let i = 0; i < count; i++) {
      touched ^= slots[((keys[i * WORDS_PER_KEY] as number) & mask) * WORDS_PER_KEY] as number
    }
    this.touched ^= touched
  }

  /**
   * Empties the table and sizes it for `expectedKeys` (the keys the next period is expected to
   * hold) below the growth load, so that it does not grow while they arrive. Storage already that
   * size is kept and zeroed: a fresh table is paid for in page faults on first touch — about
   * 12 µs a 4 KiB page on the project's VM, 3 ns a byte, several times what zeroing pages already
   * mapped costs — and a table grown key by key touches twice its final size. Storage of another
   * size is replaced, so the bytes a key costs stay what growth would give.
   */
  clear(expectedKeys = 0): void {
    const wanted = capacityFor(expectedKeys, this.initialCapacity)
    if (this.mask + 1 === wanted) {
      this.slots.fill(0)
    } else {
      this.slots = new Uint32Array(wanted * WORDS_PER_KEY)
      this.mask = wanted - 1
    }
    this.count = 0
    this.hasZeroKey = false
  }

  private grow(): void {
    const old = this.slots
    const capacity = (this.mask + 1) * 2
    const slots = new Uint32Array(capacity * WORDS_PER_KEY)
    const mask = capacity - 1
    for (let base = 0; base < old.length; base += WORDS_PER_KEY) {
      const a = old[base] as number
      const b = old[base + 1] as number
      const c = old[base + 2] as number
      const d = old[base + 3] as number
      if ((a | b | c | d) !== 0) insert(slots, mask, a, b, c, d)
    }
    this.slots = slots
    this.mask = mask
  }
}

// internals

const insert = (slots: Uint32Array, mask: number, a: number, b: number, c: number, d: number): boolean => {
  let slot = a & mask
  while (true) {
    const base = slot * WORDS_PER_KEY
    const sa = slots[base] as number
    const sb = slots[base + 1] as number
    const sc = slots[base + 2] as number
    const sd = slots[base + 3] as number
    if ((sa | sb | sc | sd) === 0) {
      slots[base] = a
      slots[base + 1] = b
      slots[base + 2] = c
      slots[base + 3] = d
      return true
    }
    if (sa === a && sb === b && sc === c && sd === d) return false
    slot = (slot + 1) & mask
  }
}

const nextPowerOfTwo = (n: number): number => 2 ** Math.ceil(Math.log2(n))

/** The capacity that holds `keys` below the growth load (3/4), and at least `minimum`. */
const capacityFor = (keys: number, minimum: number): number =>
  Math.max(minimum, nextPowerOfTwo(Math.floor((keys * 4) / 3) + 1))
