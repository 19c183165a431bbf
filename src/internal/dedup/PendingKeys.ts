/**
 * The dedup keys of the batches not yet durable — the one being staged and those in flight —
 * each tagged with the number of its batch, so that one probe answers "does this event repeat one
 * that is still on its way to disk?" (docs/FORMAT.md §10: a repeat inside the same batch is a duplicate too).
 *
 * Batches complete in order, so a key is live while its batch number is at least the oldest
 * batch still in flight; older entries are stale and count as absent. Nothing is ever removed:
 * the owner rebuilds the table from the live batches once `isFull()`, which with room for twice
 * the live keys happens every few batches and costs one pass over them.
 */

const WORDS_PER_KEY = 4

export class PendingKeys {
  private readonly slots: Uint32Array
  /** The batch of each slot; 0 marks an empty slot (batch numbers start at 1). */
  private readonly batches: Float64Array
  private readonly mask: number
  private readonly limit: number
  private used = 0

  /** A table for up to `liveKeys` live keys at once. */
  constructor(liveKeys: number) {
    this.limit = Math.max(16, liveKeys * 2)
    const capacity = 2 ** Math.ceil(Math.log2(this.limit * 2))
    this.slots = new Uint32Array(capacity * WORDS_PER_KEY)
    this.batches = new Float64Array(capacity)
    this.mask = capacity - 1
  }

  /**
   * Records key `index` of `keys` (4 words a key) as pending in `batch`. Returns false, changing
   * nothing, when the key is already pending in a batch numbered `liveFrom` or later.
   */
  claim(keys: Uint32Array, index: number, batch: number, liveFrom: number): boolean {
    const base = index * WORDS_PER_KEY
    const a = keys[base] as number
    const b = keys[base + 1] as number
    const c = keys[base + 2] as number
    const d = keys[base + 3] as number
    const slots = this.slots
    let slot = a & this.mask
    while (true) {
      const owner = this.batches[slot] as number
      const at = slot * WORDS_PER_KEY
      if (owner === 0) {
        slots[at] = a
        slots[at + 1] = b
        slots[at + 2] = c
        slots[at + 3] = d
        this.batches[slot] = batch
        this.used++
        return true
      }
      if (slots[at] === a && slots[at + 1] === b && slots[at + 2] === c && slots[at + 3] === d) {
        if (owner >= liveFrom) return false
        this.batches[slot] = batch
        return true
      }
      slot = (slot + 1) & this.mask
    }
  }

  /** Whether the table should be rebuilt from the live batches before the next batch is staged. */
  isFull(): boolean {
    return this.used >= this.limit
  }

  clear(): void {
    this.batches.fill(0)
    this.used = 0
  }
}
