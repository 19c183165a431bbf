/**
 * Reads a WAL directory's segments back for tests, through the scanner.
 */
import { Effect, FileSystem, Path } from "effect"
import type { ReplayedEvent } from "../../src/index.ts"
import { readEventRecord } from "../../src/internal/format/eventRecord.ts"
import { parseSegmentName } from "../../src/internal/format/segmentName.ts"
import { scanSegment } from "../../src/internal/segment/segmentScanner.ts"

export interface ParsedSegment {
  readonly name: string
  readonly firstSeq: bigint
  readonly batchFirstSeqs: ReadonlyArray<bigint>
  readonly sizeBytes: number
  readonly validBytes: number
}

export const readSegments = (dir: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const names = (yield* fs.readDirectory(dir)).filter((n) => parseSegmentName(n) !== undefined).sort()
    const segments: Array<ParsedSegment> = []
    const events: Array<ReplayedEvent> = []
    for (const name of names) {
      const bytes = yield* fs.readFile(path.join(dir, name))
      const firstSeq = parseSegmentName(name) ?? 0n
      const batchFirstSeqs: Array<bigint> = []
      const scan = scanSegment(bytes, firstSeq, (batch) => {
        batchFirstSeqs.push(batch.header.firstSeq)
        const view = new DataView(batch.payload.buffer, batch.payload.byteOffset, batch.payload.byteLength)
        for (let i = 0; i < batch.header.eventCount; i++) {
          events.push({ seq: batch.header.firstSeq + BigInt(i), ...readEventRecord(view, i * 21) })
        }
      })
      segments.push({
        name,
        firstSeq,
        batchFirstSeqs,
        sizeBytes: bytes.byteLength,
        validBytes: scan.validBytes
      })
    }
    return { segments, events }
  })
