/**
 * The side-by-side cases: the WAL under the three loads, and the peers and limits it is
 * judged against — node:sqlite and the raw write+fsync loops. Each runs alone in a child process
 * (bench/caseWorker.ts), so the cases of a round share no heap, JIT state or dedup table, and the
 * A/B harness can point the WAL cases at another checkout of the library.
 *
 * This module only names the cases and the result a worker prints; it imports nothing heavy.
 */

/** Events in every raw and SQLite batch: the WAL's `batchMaxEvents` default, which its batches reach under these loads. */
export const PEER_BATCH_EVENTS = 100

/** Batches a pipelined loop may have written and not yet synced: the WAL's own bound (segment/logRule.ts). */
export const PIPELINE_DEPTH = 8

export type CaseSpec =
  | {
      readonly kind: "wal"
      readonly id: string
      readonly label: string
      /** Closed-loop callers: each calls, awaits the acknowledgement, repeats. */
      readonly callers: number
      /** 1 calls `append`; more calls `appendAll` with that many events. */
      readonly eventsPerCall: number
      /** Opens with `dedupWindow: 0` (deduplication off): what the dedup window costs (bench/bounds.ts). */
      readonly withoutDedup?: true
    }
  | { readonly kind: "sqlite"; readonly id: string; readonly label: string; readonly row: "columns" | "blob" }
  | { readonly kind: "raw"; readonly id: string; readonly label: string; readonly depth: number }

export const cases = {
  appendAll100: {
    kind: "wal",
    id: "appendAll100",
    label: "WAL appendAll ×100, 100 callers",
    callers: 100,
    eventsPerCall: 100
  },
  append1000: {
    kind: "wal",
    id: "append1000",
    label: "WAL append, 1000 fibers",
    callers: 1000,
    eventsPerCall: 1
  },
  append100: {
    kind: "wal",
    id: "append100",
    label: "WAL append, 100 fibers",
    callers: 100,
    eventsPerCall: 1
  },
  appendAll100NoDedup: {
    kind: "wal",
    id: "appendAll100NoDedup",
    label: "WAL appendAll ×100, 100 callers, dedup off (not in the default run)",
    callers: 100,
    eventsPerCall: 100,
    withoutDedup: true
  },
  append1000NoDedup: {
    kind: "wal",
    id: "append1000NoDedup",
    label: "WAL append, 1000 fibers, dedup off (not in the default run)",
    callers: 1000,
    eventsPerCall: 1,
    withoutDedup: true
  },
  sqlite: {
    kind: "sqlite",
    id: "sqlite",
    label: "node:sqlite, WAL, synchronous=FULL, 100 rows a txn",
    row: "columns"
  },
  sqliteBlob: {
    kind: "sqlite",
    id: "sqliteBlob",
    label: "node:sqlite, one 21-byte BLOB a row (not in the default run)",
    row: "blob"
  },
  rawPipelined: {
    kind: "raw",
    id: "rawPipelined",
    label: "raw write+fsync, 8 in flight, 100 events a batch",
    depth: PIPELINE_DEPTH
  },
  rawSerial: { kind: "raw", id: "rawSerial", label: "raw write+fsync, serial, 100 events a batch", depth: 1 }
} as const satisfies Record<string, CaseSpec>

export type CaseId = keyof typeof cases

export const isCaseId = (id: string): id is CaseId => Object.hasOwn(cases, id)

/** The WAL's cases: what the A/B harness compares by default. */
export const walCaseIds: ReadonlyArray<CaseId> = ["appendAll100", "append1000", "append100"]

/** `npm run bench`'s side-by-side section: the WAL's cases and every peer and limit. */
export const sideBySideCaseIds: ReadonlyArray<CaseId> = [...walCaseIds, "sqlite", "rawPipelined", "rawSerial"]

/** What one case run measured, printed by the worker as one JSON line. */
export interface CaseResult {
  readonly id: CaseId
  readonly events: number
  readonly eventsPerSecond: number
  /** Whole-process CPU (user + system) per acknowledged event, in microseconds. */
  readonly cpuMicrosPerEvent: number
  /** CPU of the main JS thread alone per acknowledged event, in microseconds. */
  readonly threadCpuMicrosPerEvent: number
  readonly gcShare: number
  /** Per-call acknowledgement latency (WAL cases only; the peers' callers are one loop). */
  readonly latencyP50Millis: number | undefined
  readonly latencyP99Millis: number | undefined
  /** Events per batch written: the WAL's from its segment catalogue, the peers' fixed. */
  readonly meanBatchEvents: number | undefined
}

export interface CaseTiming {
  readonly warmupSeconds: number
  readonly seconds: number
}
