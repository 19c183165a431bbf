/**
 * (c) Per-event costs of the append path's pure work — encode, decode, dedup key (the one-block
 * compression used, with hash-wasm and @noble/hashes beside it: the measurement behind
 * blake3Record.ts and checksum.ts), dedup lookup+insert — and (d) the bytes a dedup key costs at
 * 5,000,000 keys.
 */
import { blake3 as nobleBlake3 } from "@noble/hashes/blake3.js"
import { createBLAKE3 } from "hash-wasm"
import { makeDedupWindow } from "../src/internal/dedup/DedupWindow.ts"
import { dedupKeyInto } from "../src/internal/dedup/dedupKey.ts"
import { readEventRecord, writeEventRecord } from "../src/internal/format/eventRecord.ts"
import { xorshiftWords } from "../test/support/words.ts"

export interface CodecRow {
  readonly label: string
  readonly nanosPerEvent: number
}

const time = (iterations: number, body: (i: number) => void): number => {
  for (let i = 0; i < Math.min(iterations, 100_000); i++) body(i) // warm-up
  const start = performance.now()
  for (let i = 0; i < iterations; i++) body(i)
  return ((performance.now() - start) * 1e6) / iterations
}

export interface CodecResult {
  readonly rows: ReadonlyArray<CodecRow>
  readonly dedupKeys: number
  readonly dedupBytesPerKey: number
}

const hashWasm128 = await createBLAKE3(128)

export const runCodec = (): CodecResult => {
  const n = 2_000_000
  const buffer = new Uint8Array(21 * 1024)
  const view = new DataView(buffer.buffer)
  const event = { entityId: 42n, signalType: 1, weight: 0.5, timestamp: 1_700_000_000_000_000_000n }
  const keys = new Uint32Array(4 * 1024)
  let sink = 0
  const rows: Array<CodecRow> = [
    {
      label: "encode a 21-byte record",
      nanosPerEvent: time(n, (i) => writeEventRecord(view, (i & 1023) * 21, event))
    },
    {
      label: "decode a 21-byte record",
      nanosPerEvent: time(n, (i) => {
        sink += readEventRecord(view, (i & 1023) * 21).signalType
      })
    },
    {
      label: "dedup key: BLAKE3, one-block compression in JS (used)",
      nanosPerEvent: time(n, (i) => dedupKeyInto(buffer, (i & 1023) * 21, keys, i & 1023))
    },
    {
      label: "dedup key: BLAKE3 via hash-wasm, reused hasher",
      nanosPerEvent: time(n, (i) => {
        hashWasm128.init()
        hashWasm128.update(buffer.subarray((i & 1023) * 21, (i & 1023) * 21 + 21))
        sink += hashWasm128.digest("binary")[0] ?? 0
      })
    },
    {
      label: "dedup key: BLAKE3 via @noble/hashes",
      nanosPerEvent: time(n / 4, (i) => {
        sink += nobleBlake3(buffer.subarray((i & 1023) * 21, (i & 1023) * 21 + 21))[0] ?? 0
      })
    }
  ]
  const window = makeDedupWindow(30_000_000_000n, 0n)
  const keyCount = 5_000_000
  const probe = new Uint32Array(4)
  const next = xorshiftWords(2463534242)
  rows.push({
    label: "dedup lookup + insert, window growing to 5M keys",
    nanosPerEvent: time(keyCount, () => {
      for (let w = 0; w < 4; w++) probe[w] = next()
      if (!window.contains(probe, 0)) window.remember(probe, 1)
    })
  })
  if (sink === Number.MIN_VALUE) console.log(sink)
  return { rows, dedupKeys: window.size(), dedupBytesPerKey: window.retainedBytes() / window.size() }
}
