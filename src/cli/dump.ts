/**
 * `tidal-wal dump DIR [--from SEQ] [--to SEQ] [--format ndjson|table]`: events in order, read
 * without the lock. NDJSON lines have a fixed shape (seq, entityId, signalType, weight,
 * timestamp), u64 values as decimal strings. Output respects stdout's backpressure, so a large
 * log streams in bounded memory.
 *
 * A dump that stops at damage must not look like a whole log: the events before the damage are
 * printed, then the damage is named on stderr and the exit status is 1. The reader fails the
 * stream on damage it knows is damage, but it reads a torn last segment as the end of the log (a
 * live writer may be mid-batch); so once the stream ends, the read-only directory scan — the one
 * `verify` uses — decides whether the events asked for were all there.
 */
import { Effect, Stream } from "effect"
import type { ReplayedEvent } from "../SignalEvent.ts"
import type { CorruptionError, UnsupportedVersionError } from "../WalError.ts"
import type { DirectoryProblem, DirectoryScan } from "../WalReader.ts"
import * as WalReader from "../WalReader.ts"
import { ProblemFound } from "./errors.ts"
import { Output } from "./output.ts"
import { requireWalDirectory } from "./walDirectory.ts"

export type DumpFormat = "ndjson" | "table"

export const ndjsonLine = (e: ReplayedEvent): string =>
  `{"seq":"${e.seq}","entityId":"${e.entityId}","signalType":${e.signalType},"weight":${JSON.stringify(e.weight)},"timestamp":"${e.timestamp}"}`

const tableLine = (e: ReplayedEvent): string =>
  `${String(e.seq).padStart(20)}  ${String(e.entityId).padStart(20)}  ${String(e.signalType).padStart(3)}  ${String(e.weight).padStart(20)}  ${String(e.timestamp).padStart(20)}`

const tableHeader = `${"seq".padStart(20)}  ${"entityId".padStart(20)}  ${"typ"}  ${"weight".padStart(20)}  ${"timestamp".padStart(20)}\n`

export const runDump = (dir: string, fromSeq: bigint, toSeq: bigint | undefined, format: DumpFormat) =>
  Effect.gen(function* () {
    yield* requireWalDirectory("dump", dir)
    const output = yield* Output
    const render = format === "ndjson" ? ndjsonLine : tableLine
    if (format === "table") yield* output.stdout(tableHeader)
    let lastPrinted: bigint | undefined
    yield* WalReader.read(dir, { fromSeq, toSeq }).pipe(
      Stream.runForEachArray((events) => {
        lastPrinted = events.at(-1)?.seq ?? lastPrinted
        return output.stdout(`${events.map(render).join("\n")}\n`)
      }),
      Effect.catchTags({
        CorruptionError: (error) => streamDamage(error, lastPrinted, toSeq),
        UnsupportedVersionError: (error) => streamDamage(error, lastPrinted, toSeq)
      })
    )
    const problem = damageUpTo(yield* WalReader.scan(dir), toSeq)
    if (problem !== undefined) {
      return yield* new ProblemFound({
        message: `dump stopped at damage: ${problem.file} at byte ${problem.offsetBytes}: ${problem.reason} (${problem.detail})`
      })
    }
  })

/** Damage the reader failed on, unless every event asked for was printed before it. */
const streamDamage = (
  error: CorruptionError | UnsupportedVersionError,
  lastPrinted: bigint | undefined,
  toSeq: bigint | undefined
): Effect.Effect<void, ProblemFound> =>
  toSeq !== undefined && lastPrinted !== undefined && lastPrinted >= toSeq
    ? Effect.void
    : Effect.fail(new ProblemFound({ message: `dump stopped at damage: ${error.message}` }))

/**
 * The scan's first problem, unless it lies wholly after `toSeq` — then every event asked for was
 * read intact. A problem outside the segments (checkpoint.meta) has no position and always counts.
 */
const damageUpTo = (scan: DirectoryScan, toSeq: bigint | undefined): DirectoryProblem | undefined => {
  const problem = scan.problem
  if (problem === undefined || toSeq === undefined) return problem
  const segment = scan.segments.find((s) => s.path === problem.file)
  // The segment's valid events end at lastSeq; what the damage hides starts right after.
  return segment !== undefined && segment.lastSeq + 1n > toSeq ? undefined : problem
}
