/**
 * Terminal output for the CLI: plain lines, and a progress line that is drawn only when stdout is
 * a terminal, so piped or captured output stays clean.
 */
import { Effect } from "effect"

export const line = (text = ""): Effect.Effect<void> => Effect.sync(() => process.stdout.write(`${text}\n`))

export const isInteractive = (): boolean => process.stdout.isTTY === true

/** Redraws one status line in place; a no-op when stdout is not a terminal. */
export const progress = (text: string): Effect.Effect<void> =>
  Effect.sync(() => {
    if (isInteractive()) process.stdout.write(`\r\x1b[2K${text}`)
  })

export const clearProgress: Effect.Effect<void> = Effect.sync(() => {
  if (isInteractive()) process.stdout.write("\r\x1b[2K")
})

/** Formats a table with right-aligned numeric columns. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const format = (cells: ReadonlyArray<string>) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ")
  return [format(header), ...rows.map(format)].join("\n")
}

export const formatCount = (n: number | bigint): string => n.toLocaleString("en-US")
