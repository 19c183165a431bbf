/**
 * The one rule for what a valid WAL directory is (docs/FORMAT.md, "What a valid log is"), shared
 * by recovery, every reader (`read`, `tail`, `WalReader`) and the command line, so that none of
 * them accepts what another refuses.
 *
 * 1. Where each segment must start. The first segment starts at or below `checkpoint + 1`
 *    (truncation never passes it, so a later start means segments are missing). Each later one
 *    continues the one before it, except that a log whose valid events end below the checkpoint
 *    (a point-in-time repair, or a checkpoint ahead of the log) resumes at `checkpoint + 1`.
 * 2. What damage a power cut can leave. The writer acknowledges a batch only after its own sync
 *    and every earlier one, keeps at most `MAX_UNSYNCED_BATCHES` batches written and not yet
 *    synced, and creates a segment only after every batch of the previous one synced. So a cut
 *    can damage only the end of the last segment, only bytes past the checkpoint, and only as many
 *    batches as were in flight: pages may reach the disk out of order, so a later batch of those
 *    can survive an earlier one's damage. Damage anywhere else — in an earlier segment, at or
 *    below the checkpoint, or followed by more intact batches than could have been in flight — is
 *    corruption: cutting there would throw away acknowledged data.
 */
import { Effect, type FileSystem } from "effect"
import type { CorruptionReason, IoError } from "../../WalError.ts"
import { BATCH_HEADER_BYTES, BATCH_MAGIC } from "../format/layout.ts"
import { type FileChunk, READ_CHUNK_BYTES, readFileChunk } from "../fs/durable.ts"
import { inspectInChunk, type ScanProblem, type SegmentScan } from "./segmentScanner.ts"

/**
 * How many batches the writer may have written and not yet synced at once: the pipeline depth
 * (the writer takes it from here: pipeline.ts, batchWriter.ts), and the most a power cut can leave torn (rule 2).
 * 8 measured best of 2, 4, 8, 16 before writes were coalesced; since, 16 gave about 7 % more
 * throughput at 1000 appenders, but it would also double the damage the default mode reads as a
 * torn tail and cuts (a flipped bit among the last 16 batches instead of 8), and a log written
 * with it could be refused by a reader that allows 8. So it stays 8.
 */
export const MAX_UNSYNCED_BATCHES = 8

/**
 * The sequence number a segment named for `nameFirstSeq` must start with (rule 1).
 * `previousLastSeq` is the last sequence number of the segment before it, `undefined` for the
 * first segment of the directory.
 */
export const expectedFirstSeq = (
  nameFirstSeq: bigint,
  previousLastSeq: bigint | undefined,
  checkpoint: bigint
): bigint => {
  if (previousLastSeq === undefined) return nameFirstSeq <= checkpoint + 1n ? nameFirstSeq : checkpoint + 1n
  if (previousLastSeq < checkpoint && nameFirstSeq === checkpoint + 1n) return nameFirstSeq
  return previousLastSeq + 1n
}

/** The problem of a segment whose file name does not continue the log. */
export const nameMismatchProblem = (nameFirstSeq: bigint, expectedSeq: bigint): ScanProblem => ({
  _tag: "Invalid",
  offsetBytes: 0,
  reason: "SegmentNameMismatch",
  detail: `file name promises sequence number ${nameFirstSeq}, the log continues with ${expectedSeq}`
})

/** The scan of a segment whose name does not continue the log: nothing in it is read as valid. */
export const mismatchedNameScan = (nameFirstSeq: bigint, expectedSeq: bigint): SegmentScan => ({
  validBytes: 0,
  batchCount: 0,
  lastSeq: expectedSeq - 1n,
  problem: nameMismatchProblem(nameFirstSeq, expectedSeq)
})

/** What a problem found in a segment is, by rule 2. */
export type Damage =
  | { readonly _tag: "TornTail" }
  | { readonly _tag: "Corruption"; readonly problem: ScanProblem & { readonly _tag: "Invalid" } }
  | { readonly _tag: "Unsupported"; readonly problem: ScanProblem & { readonly _tag: "Unsupported" } }

export interface DamageContext {
  readonly fs: FileSystem.FileSystem
  /** The damaged segment, searched for intact batches past the damage chunk by chunk. */
  readonly path: string
  /** The chunk the scan ended in, if any: the search starts in it before reading on. */
  readonly chunk: FileChunk | undefined
  /**
   * Where the search reads further chunks. It must not be the buffer `chunk` lives in if the
   * caller keeps that one (recovery's replay may).
   */
  readonly scratch: { buffer: Uint8Array }
  readonly isLastSegment: boolean
  readonly checkpoint: bigint
  /** The sequence number the damaged batch should have started with. */
  readonly expectedSeq: bigint
  /** Chunk size for the search (tests make it small); `READ_CHUNK_BYTES` by default. */
  readonly chunkBytes?: number | undefined
}

export const classifyDamage = (
  problem: ScanProblem,
  context: DamageContext
): Effect.Effect<Damage, IoError> =>
  Effect.gen(function* () {
    if (problem._tag === "Unsupported") return { _tag: "Unsupported", problem } as const
    const corruption = (reason: CorruptionReason, detail: string): Damage => ({
      _tag: "Corruption",
      problem: { ...problem, reason, detail: `${problem.reason} (${problem.detail}); ${detail}` }
    })
    // A torn write leaves a batch that fails its bounds or checksum; never an intact batch with the
    // wrong sequence number, nor a segment whose name breaks the sequence.
    if (!context.isLastSegment || !isTornWriteProblem(problem))
      return { _tag: "Corruption", problem } as const
    if (context.expectedSeq <= context.checkpoint) {
      return corruption(
        "DamageBelowCheckpoint",
        `sequence number ${context.expectedSeq} is at or below checkpoint ${context.checkpoint}, so it was synced`
      )
    }
    const after = yield* survivorsAfter(context, problem.offsetBytes)
    if (after.outOfOrder) {
      return corruption(
        "DamageBeforeIntactBatches",
        `an intact batch after it starts below sequence number ${context.expectedSeq}: not one the writer had in flight`
      )
    }
    if (after.batchesAtLeast > MAX_UNSYNCED_BATCHES) {
      return corruption(
        "DamageBeforeIntactBatches",
        `at least ${after.intactBatches} intact batches follow it; a power cut leaves at most ${MAX_UNSYNCED_BATCHES} unsynced`
      )
    }
    return { _tag: "TornTail" } as const
  })

/** Whether a problem can be what a crash mid-write leaves behind (see the module comment). */
export const isTornWriteProblem = (problem: ScanProblem): boolean =>
  problem._tag === "Invalid" && problem.reason !== "SequenceGap" && problem.reason !== "SegmentNameMismatch"

// internals

interface Survivors {
  readonly intactBatches: number
  /** Damaged batches (at least one per damaged stretch) plus intact ones: a lower bound. */
  readonly batchesAtLeast: number
  /** An intact batch that does not lie ahead of the damage: not the writer's pipeline. */
  readonly outOfOrder: boolean
}

const MAGIC_BYTES = (() => {
  const bytes = new Uint8Array(4)
  new DataView(bytes.buffer).setUint32(0, BATCH_MAGIC, true)
  return bytes
})()

/**
 * Looks past damage at `damagedOffset` for intact batches: every place the magic number starts a
 * batch that passes its checks counts, and so does each damaged stretch between them. The file is
 * searched chunk by chunk (the one the scan ended in first), so a huge tail costs one chunk.
 */
const survivorsAfter = (context: DamageContext, damagedOffset: number): Effect.Effect<Survivors, IoError> =>
  Effect.gen(function* () {
    const chunkBytes = context.chunkBytes ?? READ_CHUNK_BYTES
    const readAt = (offsetBytes: number, lengthBytes: number) =>
      // At least a header's worth, so a chunk always holds a whole magic number and the search
      // moves forward even with a tiny chunk size (the tests use chunks down to one byte).
      readFileChunk(
        context.fs,
        context.path,
        offsetBytes,
        Math.max(chunkBytes, lengthBytes, BATCH_HEADER_BYTES),
        context.scratch
      )
    const start = damagedOffset + 1
    const given = context.chunk
    let chunk =
      given !== undefined &&
      given.offsetBytes <= start &&
      (start < given.offsetBytes + given.bytes.byteLength || given.reachesEndOfFile)
        ? given
        : yield* readAt(start, chunkBytes)
    let intactBatches = 0
    let damagedStretches = 1
    let outOfOrder = false
    let from = start
    while (!outOfOrder && intactBatches + damagedStretches <= MAX_UNSYNCED_BATCHES) {
      const chunkEnd = chunk.offsetBytes + chunk.bytes.byteLength
      if (from >= chunkEnd && chunk.reachesEndOfFile) break
      const found = magicAt(chunk, from)
      if (found === undefined) {
        if (chunk.reachesEndOfFile) break
        // A magic number may straddle the chunk's end: the next chunk starts 3 bytes before it.
        const next = Math.max(from, chunkEnd - (MAGIC_BYTES.byteLength - 1))
        if (next <= chunk.offsetBytes) throw new Error("invariant: the survivor search makes no progress")
        chunk = yield* readAt(next, chunkBytes)
        from = next
        continue
      }
      let offset = found
      for (;;) {
        const inspection = inspectInChunk(chunk.bytes, offset - chunk.offsetBytes, chunk.reachesEndOfFile)
        if (inspection._tag === "PastChunk") {
          chunk = yield* readAt(offset, inspection.claimedBytes)
          continue
        }
        if (inspection._tag === "Invalid") break
        if (inspection.header.firstSeq < context.expectedSeq) outOfOrder = true
        intactBatches++
        offset += inspection.sizeBytes
        // Enough to decide: a long run of intact batches is not read to its end.
        if (outOfOrder || intactBatches + damagedStretches > MAX_UNSYNCED_BATCHES) break
      }
      if (offset === found) {
        from = found + 1
        continue
      }
      if (offset >= chunk.offsetBytes + chunk.bytes.byteLength && chunk.reachesEndOfFile) break
      damagedStretches++
      from = offset + 1
    }
    return { intactBatches, batchesAtLeast: intactBatches + damagedStretches, outOfOrder }
  })

/** The file offset of the first magic number at or after `from` in `chunk`, if any. */
const magicAt = (chunk: FileChunk, from: number): number | undefined => {
  const buffer = Buffer.from(chunk.bytes.buffer, chunk.bytes.byteOffset, chunk.bytes.byteLength)
  // A negative offset would make indexOf count from the buffer's end and skip most of the chunk.
  if (from < chunk.offsetBytes) throw new Error("invariant: the survivor search reads behind its chunk")
  const index = buffer.indexOf(MAGIC_BYTES, from - chunk.offsetBytes)
  return index < 0 ? undefined : chunk.offsetBytes + index
}
