/**
 * The writer under load for the GC retention test (test/writer/gcRetention.system.test.ts), run
 * as `node --trace-gc-nvp writerGcChild.ts`: 1000 fibers append through the real writer loop,
 * batch writer and pipeline until `CALLS` appends are acknowledged. The disk is a stand-in whose
 * writes take a timer tick and whose syncs 2 ms, so batches overlap in the pipeline as they do
 * on a real disk, and nothing but the writer's own objects is on the heap.
 */
import { type Cause, Effect, Queue } from "effect"
import { disabledDedupWindow } from "../../src/internal/dedup/DedupWindow.ts"
import { WalLifecycle } from "../../src/internal/layers/Lifecycle.ts"
import { makeBatchWriter } from "../../src/internal/writer/batchWriter.ts"
import { appendOne, NOT_TIMED, type WriterRequest } from "../../src/internal/writer/requests.ts"
import { runWriterLoop } from "../../src/internal/writer/writerLoop.ts"

const APPENDERS = 1000
const CALLS = 200_000
const EVENTS_PER_BATCH = 100

/**
 * The callers' events, built as class instances: V8 may pretenure an object literal's site, and
 * an old event would keep its young BigInts alive — noise in what this child measures, which is
 * what the writer itself keeps.
 */
class Event {
  readonly entityId: bigint
  readonly signalType: number
  readonly weight = 1
  readonly timestamp: bigint
  constructor(i: number) {
    this.entityId = BigInt(i)
    this.signalType = i & 3
    this.timestamp = 1_700_000_000_000_000_000n + BigInt(i)
  }
}

const afterMillis = (millis: number) =>
  Effect.callback<void>((resume) => {
    setTimeout(() => resume(Effect.void), millis)
  })

const program = Effect.gen(function* () {
  const lifecycle = new WalLifecycle("/held", 0n)
  const batchWriter = makeBatchWriter({
    batchMaxEvents: EVENTS_PER_BATCH,
    appender: { writeBatch: () => Effect.as(afterMillis(0), afterMillis(2)) },
    dedup: disabledDedupWindow,
    lifecycle,
    traceBatches: false,
    onDurable: (batch, eventsWritten) => {
      lifecycle.markDurable(batch.firstSeq + BigInt(eventsWritten) - 1n)
      return undefined
    },
    onCompleted: () => {},
    fail: () => Effect.void
  })
  const queue = yield* Queue.bounded<WriterRequest, Cause.Done>(100_000)
  yield* Effect.forkDetach(
    runWriterLoop({ queue, batchWriter, batchMaxEvents: EVENTS_PER_BATCH, window: "eager", lifecycle })
  )
  let calls = 0
  const append = Effect.callback<bigint>((resume) => {
    const i = calls++
    const request = appendOne(new Event(i), NOT_TIMED, undefined)
    request.resume = resume as (effect: Effect.Effect<bigint, unknown>) => void
    Queue.offerUnsafe(queue, request)
  })
  yield* Effect.forEach(
    Array.from({ length: APPENDERS }),
    () => Effect.whileLoop({ while: () => calls < CALLS, body: () => append, step: () => {} }),
    { concurrency: "unbounded", discard: true }
  )
})

await Effect.runPromise(program)
process.exit(0)
