/**
 * The replayed events returned by open (docs/FORMAT.md §7 "Recovery"): a read-only sequence.
 *
 * Millions of events must not cost an object and two bigints each, so the collection keeps the
 * records exactly as they are on disk — 21 bytes per event — and builds a `ReplayedEvent` only
 * when one is asked for. Sequence numbers are contiguous, so they are computed, not stored.
 *
 * Records are held as runs: a run is consecutive records in one buffer. A segment whose batches
 * are large keeps its own read buffer, each batch's payload a run (the 64-byte headers between
 * them cost under 2 bytes an event at 100 events a batch), so recovery copies nothing; a segment
 * of small batches, or mostly below the checkpoint, is copied into one packed run instead.
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

/** A segment's buffer is kept when its records fill at least this share of it. */
const KEEP_WHEN_RECORDS_FILL = 0.9

/**
 * Accumulates replayable records segment by segment. Until `seal`, records are held as ranges of
 * the caller's buffer (numbers, not views: a segment has thousands of batches, and views of them
 * would all outlive a young-generation collection).
 */
export class ReplayBuilder {
  private readonly views: Array<DataView> = []
  private readonly runView: Array<number> = []
  private readonly runOffset: Array<number> = []
  private readonly runStart: Array<number> = []
  private retainedBytes = 0
  private pendingSource: Uint8Array | undefined
  private readonly pendingStarts: Array<number> = []
  private readonly pendingEnds: Array<number> = []
  private pendingBytes = 0
  private firstSeq = 0n
  private count = 0

  /**
   * Adds `source[start..end)` (a whole number of 21-byte records) whose first record has sequence
   * number `seq`. Every range added before one `seal` must come from the same `source`, which must
   * not change until then.
   */
  add(source: Uint8Array, start: number, end: number, seq: bigint): void {
    if (end <= start) return
    // A second buffer before a seal: copy out the first one's records, so that no buffer is kept
    // without its owner having been told (only `seal` says so).
    if (this.pendingSource !== undefined && source !== this.pendingSource) this.takeIn(false)
    if (this.count === 0 && this.pendingBytes === 0) this.firstSeq = seq
    this.pendingSource = source
    this.pendingStarts.push(start)
    this.pendingEnds.push(end)
    this.pendingBytes += end - start
  }

  /**
   * Takes in what was added since the last seal. Returns true when it kept the caller's buffer
   * (the caller must not reuse it), false when it copied the records out of it.
   */
  seal(): boolean {
    return this.takeIn(true)
  }

  build(): ReplayedEvents {
    this.seal()
    return new RunReplayedEvents({
      views: this.views,
      runView: Int32Array.from(this.runView),
      runOffset: Float64Array.from(this.runOffset),
      runStart: Float64Array.from(this.runStart),
      firstSeq: this.firstSeq,
      length: this.count,
      retainedBytes: this.retainedBytes
    })
  }

  private takeIn(mayKeep: boolean): boolean {
    const source = this.pendingSource
    if (source === undefined || this.pendingBytes === 0) return false
    // Keeping a view keeps its whole ArrayBuffer, which may be larger than the view (a reused
    // read buffer): that whole size is what is weighed and counted.
    const bufferBytes = source.buffer.byteLength
    const keep = mayKeep && this.pendingBytes >= bufferBytes * KEEP_WHEN_RECORDS_FILL
    if (keep) {
      const view = this.views.push(new DataView(source.buffer, source.byteOffset, source.byteLength)) - 1
      let start = this.count
      for (let i = 0; i < this.pendingStarts.length; i++) {
        const from = this.pendingStarts[i] as number
        this.runView.push(view)
        this.runOffset.push(from)
        this.runStart.push(start)
        start += ((this.pendingEnds[i] as number) - from) / EVENT_RECORD_BYTES
      }
      this.retainedBytes += bufferBytes
    } else {
      const chunk = new Uint8Array(this.pendingBytes)
      let offset = 0
      for (let i = 0; i < this.pendingStarts.length; i++) {
        const from = this.pendingStarts[i] as number
        const to = this.pendingEnds[i] as number
        chunk.set(source.subarray(from, to), offset)
        offset += to - from
      }
      this.runView.push(this.views.push(new DataView(chunk.buffer)) - 1)
      this.runOffset.push(0)
      this.runStart.push(this.count)
      this.retainedBytes += chunk.byteLength
    }
    this.count += this.pendingBytes / EVENT_RECORD_BYTES
    this.pendingSource = undefined
    this.pendingStarts.length = 0
    this.pendingEnds.length = 0
    this.pendingBytes = 0
    return keep
  }
}

// internals

interface Runs {
  readonly views: ReadonlyArray<DataView>
  /** For run i: which view holds it, the byte offset of its first record there, and the index of that record in the sequence. */
  readonly runView: Int32Array
  readonly runOffset: Float64Array
  readonly runStart: Float64Array
  readonly firstSeq: bigint
  readonly length: number
  readonly retainedBytes: number
}

class RunReplayedEvents implements ReplayedEvents {
  readonly retainedBytes: number
  readonly firstSeq: bigint
  readonly length: number
  private readonly runs: Runs

  constructor(runs: Runs) {
    this.runs = runs
    this.firstSeq = runs.firstSeq
    this.length = runs.length
    this.retainedBytes =
      runs.retainedBytes + runs.runView.byteLength + runs.runOffset.byteLength + runs.runStart.byteLength
  }

  at(index: number): ReplayedEvent | undefined {
    const i = index < 0 ? this.length + index : index
    if (!Number.isInteger(i) || i < 0 || i >= this.length) return undefined
    const run = this.runOf(i)
    return this.decode(run, i - (this.runs.runStart[run] as number), i)
  }

  *[Symbol.iterator](): Iterator<ReplayedEvent> {
    const runCount = this.runs.runStart.length
    for (let run = 0; run < runCount; run++) {
      const start = this.runs.runStart[run] as number
      const end = run + 1 < runCount ? (this.runs.runStart[run + 1] as number) : this.length
      for (let index = start; index < end; index++) yield this.decode(run, index - start, index)
    }
  }

  private decode(run: number, indexInRun: number, index: number): ReplayedEvent {
    const view = this.runs.views[this.runs.runView[run] as number] as DataView
    const event = readEventRecord(
      view,
      (this.runs.runOffset[run] as number) + indexInRun * EVENT_RECORD_BYTES
    )
    return { seq: this.firstSeq + BigInt(index), ...event }
  }

  /** The last run starting at or before `index`. */
  private runOf(index: number): number {
    const starts = this.runs.runStart
    let low = 0
    let high = starts.length - 1
    while (low < high) {
      const mid = (low + high + 1) >> 1
      if ((starts[mid] as number) <= index) low = mid
      else high = mid - 1
    }
    return low
  }
}
