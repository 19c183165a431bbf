/**
 * `tidal-wal dump DIR [--from SEQ] [--to SEQ] [--format ndjson|table]`: events in order, read
 * without the lock. NDJSON lines have exactly the SPEC shape, u64 values as decimal strings.
 * Output respects stdout's backpressure, so a large log streams in bounded memory.
 */
import { Effect, Stream } from "effect"
import type { ReplayedEvent } from "../SignalEvent.ts"
import * as WalReader from "../WalReader.ts"

export type DumpFormat = "ndjson" | "table"

export const ndjsonLine = (e: ReplayedEvent): string =>
  `{"seq":"${e.seq}","entityId":"${e.entityId}","signalType":${e.signalType},"weight":${JSON.stringify(e.weight)},"timestamp":"${e.timestamp}"}`

const tableLine = (e: ReplayedEvent): string =>
  `${String(e.seq).padStart(20)}  ${String(e.entityId).padStart(20)}  ${String(e.signalType).padStart(3)}  ${String(e.weight).padStart(20)}  ${String(e.timestamp).padStart(20)}`

const write = (text: string): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    if (process.stdout.write(text)) resume(Effect.void)
    else process.stdout.once("drain", () => resume(Effect.void))
  })

export const runDump = (dir: string, fromSeq: bigint, toSeq: bigint | undefined, format: DumpFormat) =>
  Effect.gen(function* () {
    const render = format === "ndjson" ? ndjsonLine : tableLine
    if (format === "table") {
      yield* write(
        `${"seq".padStart(20)}  ${"entityId".padStart(20)}  ${"typ"}  ${"weight".padStart(20)}  ${"timestamp".padStart(20)}\n`
      )
    }
    yield* WalReader.read(dir, { fromSeq, toSeq }).pipe(
      Stream.runForEachArray((events) => write(`${events.map(render).join("\n")}\n`))
    )
  })
