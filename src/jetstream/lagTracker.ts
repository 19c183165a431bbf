/**
 * How far shipping is behind the WAL, in events and in milliseconds (the metrics
 * `tidal_wal_ship_lag_events` and `tidal_wal_ship_lag_millis`).
 *
 * Events: the last durable sequence number seen minus the last one JetStream acknowledged.
 * Milliseconds: how long ago the oldest unacknowledged event was first seen durable — by the
 * shipper's tail when it is live, or by the periodic sample of the WAL's next sequence number
 * when the shipper is behind (then the answer is as coarse as the sample interval). Observations
 * closer together than `resolutionMillis` share one mark stamped with the earliest time, so the
 * lag may read up to that much high, never low, and the marks stay few during a long outage.
 */

interface Mark {
  /** Every event up to this sequence number was seen durable at or after `seenAtMillis`. */
  seq: bigint
  readonly seenAtMillis: number
}

export class LagTracker {
  private readonly marks: Array<Mark> = []
  private head = 0
  private durableSeq: bigint
  private shippedSeq: bigint
  private readonly resolutionMillis: number

  constructor(shippedSeq: bigint, resolutionMillis = 10) {
    this.durableSeq = shippedSeq
    this.shippedSeq = shippedSeq
    this.resolutionMillis = resolutionMillis
  }

  /** Every event up to `seq` is durable, as seen at `nowMillis`. */
  observeDurable(seq: bigint, nowMillis: number): void {
    if (seq <= this.durableSeq) return
    this.durableSeq = seq
    if (seq <= this.shippedSeq) return
    const last = this.marks[this.marks.length - 1]
    if (
      last !== undefined &&
      this.marks.length > this.head &&
      nowMillis - last.seenAtMillis < this.resolutionMillis
    ) {
      last.seq = seq
    } else {
      this.marks.push({ seq, seenAtMillis: nowMillis })
    }
  }

  /** JetStream acknowledged every event up to `seq`. */
  acknowledged(seq: bigint): void {
    if (seq <= this.shippedSeq) return
    this.shippedSeq = seq
    if (seq > this.durableSeq) this.durableSeq = seq
    while (this.head < this.marks.length && (this.marks[this.head] as Mark).seq <= seq) this.head++
    // Compact once the consumed prefix dominates, so the array does not grow for ever.
    if (this.head > 1024 && this.head * 2 > this.marks.length) {
      this.marks.splice(0, this.head)
      this.head = 0
    }
  }

  lagEvents(): bigint {
    return this.durableSeq - this.shippedSeq
  }

  lagMillis(nowMillis: number): number {
    const oldest = this.marks[this.head]
    return oldest === undefined ? 0 : Math.max(0, nowMillis - oldest.seenAtMillis)
  }
}
