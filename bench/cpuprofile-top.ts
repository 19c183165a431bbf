/**
 * Self time by function from a V8 `.cpuprofile`: `npx node bench/cpuprofile-top.ts FILE [ROWS]`.
 * The "top costs" quoted in the README and the issue notes come from this.
 */
import { readFileSync } from "node:fs"

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
}
interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const [file, rowsArgument] = process.argv.slice(2)
if (file === undefined) {
  console.error("usage: cpuprofile-top.ts FILE [ROWS]")
  process.exit(2)
}
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile
const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
const selfMicros = new Map<string, number>()
let totalMicros = 0
profile.samples.forEach((id, i) => {
  const frame = nodes.get(id)?.callFrame
  const delta = profile.timeDeltas[i] ?? 0
  if (frame === undefined) return
  const where = frame.url.split("/").slice(-2).join("/")
  const key = `${frame.functionName || "(anonymous)"} ${where}:${frame.lineNumber + 1}`
  selfMicros.set(key, (selfMicros.get(key) ?? 0) + delta)
  totalMicros += delta
})
const rows = [...selfMicros].sort((a, b) => b[1] - a[1]).slice(0, Number(rowsArgument ?? 25))
for (const [key, micros] of rows)
  console.log(`${((100 * micros) / totalMicros).toFixed(1).padStart(5)} %  ${key}`)
