/**
 * Loads the format v1 test vectors made by an independent implementation.
 *
 * The contract lives in ../shared/vectors/format-v1.json beside the repository; the copy in
 * test/fixtures is used only where shared/ is absent, and a test checks the two are identical.
 */
import { existsSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

export interface VectorEvent {
  readonly entityId: string
  readonly signalType: number
  readonly weight: number
  readonly timestamp: string
}

export interface Vectors {
  readonly events: ReadonlyArray<{
    readonly event: VectorEvent
    readonly record: string
    readonly dedupKey: string
  }>
  readonly batches: ReadonlyArray<{
    readonly firstSeq: string
    readonly batchTimestamp: string
    readonly events: ReadonlyArray<VectorEvent>
    readonly bytes: string
  }>
  readonly checkpoints: ReadonlyArray<{
    readonly sequence: string
    readonly timestamp: string
    readonly bytes: string
  }>
  readonly segmentNames: ReadonlyArray<{ readonly firstSeq: string; readonly name: string }>
}

export const sharedVectorsPath = fileURLToPath(
  new URL("../../../shared/vectors/format-v1.json", import.meta.url)
)
export const fixtureVectorsPath = fileURLToPath(new URL("../fixtures/format-v1.json", import.meta.url))

export const vectorsText = (): string =>
  readFileSync(existsSync(sharedVectorsPath) ? sharedVectorsPath : fixtureVectorsPath, "utf8")

export const vectors: Vectors = JSON.parse(vectorsText())

export const toEvent = (v: VectorEvent) => ({
  entityId: BigInt(v.entityId),
  signalType: v.signalType,
  weight: v.weight,
  timestamp: BigInt(v.timestamp)
})

export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex")
export const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "hex"))
