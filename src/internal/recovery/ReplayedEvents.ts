/**
 * The replayed events returned by open (SPEC §3 "Open, recovery and replay"): a read-only sequence.
 *
 * Millions of events must not cost an object and two bigints each, so the collection keeps the
 * records exactly as they are on disk — 21 bytes per event, in one compact buffer per segment —
 * and builds a `ReplayedEvent` only when one is asked for. Sequence numbers are contiguous, so
 * they are computed, not stored.
 */
import type { ReplayedEvent } from "../../SignalEvent.ts"
import { readEventRecord } from "../format/eventRecord.ts"
import { EVENT_RECORD_BYTES } from "../format/layout.ts"

export interface ReplayedEvents extends Iterable<ReplayedEvent> {
  readonly length: number
  /** Sequence number of the first event (meaningless when `length` is 0). */
  readonly firstSeq: bigint
  /** The event at `index`, or `undefined` outside `0 <= index < length` (like `Array.prototype.at`, negatives count from the end). */
  at(index: number): ReplayedEvent | undefined
  /** Bytes held by the collection's buffers. */
  readonly retainedBytes: number
}

/**
 * Accumulates replayable records segment by segment. Until `seal`, records are held as ranges of
 * the caller's buffer (numbers, not views: a segment has thousands of batches, and views of them
 * would all outlive a young-generation collection).
 */
export class ReplayBuilder {
  private readonly chunks: Array<Uint8Array> = []
  private readonly pendingSources: Array<Uint8Array> = []
  private readonly pendingStarts: Array<number> = []
  private readonly pendingEnds: Array<number> = []
  private pendingBytes = 0
  private firstSeq = 0n
  private count = 0

  /**
   * Adds `source[start..end)` (a whole number of 21-byte records) whose first record has sequence
   * number `seq`. `source` must not change until the next `seal`.
   */
  add(source: Uint8Array, start: number, end: number, seq: bigint): void {
    if (end <= start) return
    if (this.count === 0 && this.pendingBytes === 0) this.firstSeq = seq
    this.pendingSources.push(source)
    this.pendingStarts.push(start)
    this.pendingEnds.push(end)
    this.pendingBytes += end - start
  }

  /** Copies what was added since the last seal into one buffer, releasing the callers' buffers. */
  seal(): void {
    if (this.pendingBytes === 0) return
    const chunk = new Uint8Array(this.pendingBytes)
    let offset = 0
    for (let i = 0; i < this.pendingSources.length; i++) {
      const source = this.pendingSources[i] as Uint8Array
      const start = this.pendingStarts[i] as number
      const end = this.pendingEnds[i] as number
      chunk.set(source.subarray(start, end), offset)
      offset += end - start
    }
    this.chunks.push(chunk)
    this.count += this.pendingBytes / EVENT_RECORD_BYTES
    this.pendingSources.length = 0
    this.pendingStarts.length = 0
    this.pendingEnds.length = 0
    this.pendingBytes = 0
  }

  build(): ReplayedEvents {
    this.seal()
    return new PackedReplayedEvents(this.chunks, this.firstSeq, this.count)
  }
}

// internals

class PackedReplayedEvents implements ReplayedEvents {
  readonly retainedBytes: number
  readonly firstSeq: bigint
  readonly length: number
  private readonly views: ReadonlyArray<DataView>
  /** `starts[i]` is the index of the first event of chunk i. */
  private readonly starts: Float64Array

  constructor(chunks: ReadonlyArray<Uint8Array>, firstSeq: bigint, length: number) {
    this.firstSeq = firstSeq
    this.length = length
    this.views = chunks.map((c) => new DataView(c.buffer, c.byteOffset, c.byteLength))
    this.starts = new Float64Array(chunks.length)
    let start = 0
    let retained = 0
    chunks.forEach((chunk, i) => {
      this.starts[i] = start
      start += chunk.byteLength / EVENT_RECORD_BYTES
      retained += chunk.byteLength
    })
    this.retainedBytes = retained
  }

  at(index: number): ReplayedEvent | undefined {
    const i = index < 0 ? this.length + index : index
    if (!Number.isInteger(i) || i < 0 || i >= this.length) return undefined
    const chunkIndex = this.chunkOf(i)
    const view = this.views[chunkIndex]
    const start = this.starts[chunkIndex]
    if (view === undefined || start === undefined) return undefined
    return this.decode(view, i - start, i)
  }

  *[Symbol.iterator](): Iterator<ReplayedEvent> {
    let index = 0
    for (const view of this.views) {
      const count = view.byteLength / EVENT_RECORD_BYTES
      for (let j = 0; j < count; j++) yield this.decode(view, j, index++)
    }
  }

  private decode(view: DataView, indexInChunk: number, index: number): ReplayedEvent {
    const event = readEventRecord(view, indexInChunk * EVENT_RECORD_BYTES)
    return { seq: this.firstSeq + BigInt(index), ...event }
  }

  private chunkOf(index: number): number {
    let low = 0
    let high = this.starts.length - 1
    while (low < high) {
      const mid = (low + high + 1) >> 1
      if ((this.starts[mid] ?? 0) <= index) low = mid
      else high = mid - 1
    }
    return low
  }
}
