/**
 * The dedup window across rotations: `npx node bench/dedupRotation.ts [KEYS_PER_PERIOD] [PERIODS]`.
 *
 * Each period looks up and remembers `KEYS_PER_PERIOD` fresh keys in batches of 100, as the
 * writer does, then the clock passes one window and the tables rotate. The first period's table
 * grows from its initial size; what later periods cost shows whether rotation hands the new
 * period a table sized for it (DedupWindow.advanceTo, KeyTable.clear) or one that must grow — and
 * be faulted in — again. Prints ns per key for each period, and the time of each rotation.
 */
import { makeDedupWindow } from "../src/internal/dedup/DedupWindow.ts"

const keysPerPeriod = Number(process.argv[2] ?? 4_000_000)
const periods = Number(process.argv[3] ?? 4)
const BATCH = 100
const WINDOW_NANOS = 30_000_000_000n

let state = 0x9e3779b9
const fillRandom = (words: Uint32Array): void => {
  for (let i = 0; i < words.length; i++) {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    words[i] = state >>> 0
  }
}

const window = makeDedupWindow(WINDOW_NANOS, 0n)
const keys = new Uint32Array(BATCH * 4)
let duplicates = 0
for (let period = 0; period < periods; period++) {
  const rotationStart = performance.now()
  window.advanceTo(BigInt(period) * WINDOW_NANOS)
  const rotationMillis = performance.now() - rotationStart
  const start = performance.now()
  for (let done = 0; done < keysPerPeriod; done += BATCH) {
    fillRandom(keys)
    window.prefetch(keys, BATCH)
    for (let i = 0; i < BATCH; i++) if (window.contains(keys, i)) duplicates++
    window.remember(keys, BATCH)
  }
  const nanosPerKey = ((performance.now() - start) * 1e6) / keysPerPeriod
  console.log(
    `period ${period + 1}: ${nanosPerKey.toFixed(0)} ns a key (lookup + remember), rotation ${rotationMillis.toFixed(1)} ms, ` +
      `${(window.retainedBytes() / 2 ** 20).toFixed(0)} MiB retained`
  )
}
if (duplicates !== 0) console.log(`${duplicates} random keys collided`)
