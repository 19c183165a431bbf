/**
 * BLAKE3-256 for batch and checkpoint checksums; with blake3Record.ts (dedup keys), the only
 * modules that know which BLAKE3 implementation runs.
 *
 * hash-wasm's reused WASM hasher gives the same digests as `@noble/hashes` (the vectors and a
 * property test check both) and is 7–17× faster here; a batch is hashed once per batch, over
 * header and payload. But a WASM instance can only be created asynchronously, and awaiting it
 * when this module loads (a top-level await) makes `require("tidal-wal")` fail with
 * ERR_REQUIRE_ASYNC_MODULE. So nothing happens at import: the first hash starts the
 * instantiation, and until it has finished — a few milliseconds, or forever where WebAssembly
 * is unavailable (`node --jitless`) — hashes come from the portable code below, which gives
 * the same digests (test/package/moduleFormat.test.ts checks both, before and after). Open and
 * the readers can run `checksumReady` first, so that even their first hash is the fast one.
 */
import { Effect } from "effect"
import { createBLAKE3, type IHasher } from "hash-wasm"
import { CHECKSUM_BYTES } from "./layout.ts"

let wasmHasher: IHasher | undefined
let instantiation: Promise<void> | undefined

/** Starts the WASM instantiation once; the promise never rejects. */
const instantiateWasm = (): Promise<void> => {
  instantiation ??= createBLAKE3(CHECKSUM_BYTES * 8).then(
    (hasher) => {
      wasmHasher = hasher
    },
    // No WebAssembly here: the portable implementation stays in use, slower but equal.
    () => undefined
  )
  return instantiation
}

/**
 * Completes once the WASM hasher is in use, or is known to be unavailable. Never fails; running
 * it is optional (hashing is correct either way) and costs nothing after the first time.
 */
export const checksumReady: Effect.Effect<void> = Effect.suspend(() =>
  wasmHasher === undefined ? Effect.promise(instantiateWasm) : Effect.void
)

/** Which implementation hashes now: for tests and diagnostics. @internal */
export const checksumImplementation = (): "wasm" | "portable" =>
  wasmHasher === undefined ? "portable" : "wasm"

/** BLAKE3-256 of `first ‖ second`, written into `target` at `targetOffset`. */
export const blake3Into = (
  first: Uint8Array,
  second: Uint8Array | undefined,
  target: Uint8Array,
  targetOffset: number
): void => {
  const hasher = wasmHasher
  if (hasher === undefined) {
    void instantiateWasm()
    portableBlake3Into(second === undefined ? first : concat(first, second), target, targetOffset)
    return
  }
  hasher.init()
  hasher.update(first)
  if (second !== undefined) hasher.update(second)
  target.set(hasher.digest("binary"), targetOffset)
}

/** BLAKE3-256 of `first ‖ second`. */
export const blake3 = (first: Uint8Array, second?: Uint8Array): Uint8Array => {
  const out = new Uint8Array(CHECKSUM_BYTES)
  blake3Into(first, second, out, 0)
  return out
}

/** Compares `expected` with the 32 bytes at `offset` of `bytes`, without allocating. */
export const checksumEquals = (expected: Uint8Array, bytes: Uint8Array, offset: number): boolean => {
  for (let i = 0; i < CHECKSUM_BYTES; i++) {
    if (expected[i] !== bytes[offset + i]) return false
  }
  return true
}

// The portable implementation: BLAKE3 as its specification writes it (unkeyed, 32-byte output).
// Only used until the WASM hasher is ready, so it is written to be plainly correct, not fast.

const IV = Uint32Array.of(
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19
)
const MSG_PERMUTATION = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8] as const
const CHUNK_START = 1
const CHUNK_END = 2
const PARENT = 4
const ROOT = 8
const BLOCK_BYTES = 64
const CHUNK_BYTES = 1024

const concat = (first: Uint8Array, second: Uint8Array): Uint8Array => {
  const joined = new Uint8Array(first.byteLength + second.byteLength)
  joined.set(first, 0)
  joined.set(second, first.byteLength)
  return joined
}

/** BLAKE3's quarter-round on words a, b, c, d of `v`, mixing in message words x and y. */
const g = (v: Uint32Array, a: number, b: number, c: number, d: number, x: number, y: number): void => {
  v[a] = (v[a] as number) + (v[b] as number) + x
  v[d] = rotateRight((v[d] as number) ^ (v[a] as number), 16)
  v[c] = (v[c] as number) + (v[d] as number)
  v[b] = rotateRight((v[b] as number) ^ (v[c] as number), 12)
  v[a] = (v[a] as number) + (v[b] as number) + y
  v[d] = rotateRight((v[d] as number) ^ (v[a] as number), 8)
  v[c] = (v[c] as number) + (v[d] as number)
  v[b] = rotateRight((v[b] as number) ^ (v[c] as number), 7)
}

const rotateRight = (word: number, bits: number): number => (word >>> bits) | (word << (32 - bits))

/**
 * The compression function: the chaining value `cv`, one 16-word block, the chunk counter, the
 * block's length in bytes and the flags. Returns the 8-word chaining value `v[i] ^ v[i + 8]`.
 */
const compress = (
  cv: Uint32Array,
  block: Uint32Array,
  counter: number,
  blockLengthBytes: number,
  flags: number
): Uint32Array => {
  const v = new Uint32Array(16)
  v.set(cv, 0)
  v.set(IV.subarray(0, 4), 8)
  v[12] = counter >>> 0
  v[13] = Math.floor(counter / 2 ** 32)
  v[14] = blockLengthBytes
  v[15] = flags
  let m = Uint32Array.from(block)
  for (let round = 0; round < 7; round++) {
    const w = (i: number): number => m[i] as number
    g(v, 0, 4, 8, 12, w(0), w(1))
    g(v, 1, 5, 9, 13, w(2), w(3))
    g(v, 2, 6, 10, 14, w(4), w(5))
    g(v, 3, 7, 11, 15, w(6), w(7))
    g(v, 0, 5, 10, 15, w(8), w(9))
    g(v, 1, 6, 11, 12, w(10), w(11))
    g(v, 2, 7, 8, 13, w(12), w(13))
    g(v, 3, 4, 9, 14, w(14), w(15))
    const permuted = new Uint32Array(16)
    for (let i = 0; i < 16; i++) permuted[i] = m[MSG_PERMUTATION[i] as number] as number
    m = permuted
  }
  const out = new Uint32Array(8)
  for (let i = 0; i < 8; i++) out[i] = (v[i] as number) ^ (v[i + 8] as number)
  return out
}

/** Bytes `[start, end)` of `input`, as 16 little-endian words, zero-padded. */
const blockWords = (input: Uint8Array, start: number, end: number): Uint32Array => {
  const padded = new Uint8Array(BLOCK_BYTES)
  padded.set(input.subarray(start, end))
  const view = new DataView(padded.buffer)
  const words = new Uint32Array(16)
  for (let i = 0; i < 16; i++) words[i] = view.getUint32(i * 4, true)
  return words
}

/** What the last compression of a node takes, kept so the root can be compressed with ROOT. */
interface NodeOutput {
  readonly cv: Uint32Array
  readonly block: Uint32Array
  readonly counter: number
  readonly blockLengthBytes: number
  readonly flags: number
}

const chainingValue = (node: NodeOutput): Uint32Array =>
  compress(node.cv, node.block, node.counter, node.blockLengthBytes, node.flags)

/** Chunk `chunkIndex` (bytes `[start, end)`, at most 1 KiB): every block but the last compressed. */
const chunkOutput = (input: Uint8Array, start: number, end: number, chunkIndex: number): NodeOutput => {
  let cv: Uint32Array = IV
  let blockStart = start
  let flags = CHUNK_START
  while (end - blockStart > BLOCK_BYTES) {
    cv = compress(cv, blockWords(input, blockStart, blockStart + BLOCK_BYTES), chunkIndex, BLOCK_BYTES, flags)
    blockStart += BLOCK_BYTES
    flags = 0
  }
  const block = blockWords(input, blockStart, end)
  return { cv, block, counter: chunkIndex, blockLengthBytes: end - blockStart, flags: flags | CHUNK_END }
}

const parentOutput = (left: Uint32Array, right: Uint32Array): NodeOutput => {
  const block = new Uint32Array(16)
  block.set(left, 0)
  block.set(right, 8)
  return { cv: IV, block, counter: 0, blockLengthBytes: BLOCK_BYTES, flags: PARENT }
}

/**
 * BLAKE3-256 of `input` into `target` at `targetOffset`. Chunks are merged into the tree as soon
 * as a subtree is complete (the stack of chaining values of the specification); the last chunk
 * and the parents above it are compressed last, the root with the ROOT flag.
 */
const portableBlake3Into = (input: Uint8Array, target: Uint8Array, targetOffset: number): void => {
  const chunkCount = Math.max(1, Math.ceil(input.byteLength / CHUNK_BYTES))
  const stack: Array<Uint32Array> = []
  for (let chunk = 0; chunk < chunkCount - 1; chunk++) {
    const start = chunk * CHUNK_BYTES
    let cv = chainingValue(chunkOutput(input, start, start + CHUNK_BYTES, chunk))
    for (let completed = chunk + 1; (completed & 1) === 0; completed >>>= 1) {
      const left = stack.pop()
      if (left === undefined) throw new Error("BLAKE3: a completed subtree has no left half")
      cv = chainingValue(parentOutput(left, cv))
    }
    stack.push(cv)
  }
  const lastStart = (chunkCount - 1) * CHUNK_BYTES
  let node = chunkOutput(input, lastStart, input.byteLength, chunkCount - 1)
  for (let left = stack.pop(); left !== undefined; left = stack.pop()) {
    node = parentOutput(left, chainingValue(node))
  }
  const root = compress(node.cv, node.block, node.counter, node.blockLengthBytes, node.flags | ROOT)
  const view = new DataView(target.buffer, target.byteOffset + targetOffset, CHECKSUM_BYTES)
  for (let i = 0; i < 8; i++) view.setUint32(i * 4, root[i] as number, true)
}

/** The portable implementation alone, for the tests that compare it with the others. @internal */
export const portableBlake3 = (input: Uint8Array): Uint8Array => {
  const out = new Uint8Array(CHECKSUM_BYTES)
  portableBlake3Into(input, out, 0)
  return out
}
