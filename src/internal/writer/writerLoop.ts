/**
 * The single writer fiber (docs/FORMAT.md §11 "Group commit"): consumes the request queue, forms
 * groups by the group-commit policy, and writes each group as batches of at most
 * `batchMaxEvents`, running commands in queue order between them.
 *
 * Groups come from batchCollector.ts (the configured window, as a `Schedule`, or the eager policy).
 * After a failed write the writer keeps draining, failing every request with `ClosedError`, so
 * no caller is left waiting.
 */
import { type Cause, Effect, type Queue } from "effect"
import type { GroupCommitWindow } from "../../GroupCommitWindow.ts"
import type { ClosedError, IoError } from "../../WalError.ts"
import { makeCollector } from "./batchCollector.ts"
import type { BatchWriter } from "./batchWriter.ts"
import { reject, type WriterRequest } from "./requests.ts"

export interface WriterLoopOptions {
  readonly queue: Queue.Queue<WriterRequest, Cause.Done>
  readonly batchWriter: BatchWriter
  readonly batchMaxEvents: number
  /** The group-commit window, or `"eager"`. */
  readonly window: GroupCommitWindow | "eager"
  /** The WAL's lifecycle: after a failure every request is refused with its `closedError`. */
  readonly lifecycle: { readonly failure: IoError | undefined; closedError(): ClosedError }
  /** Called with the size of every group taken from the queue, before it is written. */
  readonly onGroup?: ((requests: number) => void) | undefined
}

/** Runs until the queue is ended and drained. Never fails: every request is completed. */
export const runWriterLoop = (options: WriterLoopOptions): Effect.Effect<void> => {
  const { batchWriter, batchMaxEvents, lifecycle } = options
  const { flush, drain } = batchWriter
  /** The group being written: failed whole if this loop itself fails (a bug), so none waits forever. */
  let group: ReadonlyArray<WriterRequest> = []
  /** The collector's requests not yet in a group: failed with the group, for the same reason. */
  let carried: () => ReadonlyArray<WriterRequest> = () => []

  // One generator for the writer's whole life, not one per group. With a generator per group the
  // groups' arrays outlived their group until the next full GC (emptying each array once written
  // cured it too; what in V8 held them we did not pin down), so every request, with its caller's
  // event, Exit and resume closure, was copied by each scavenge and promoted: medians of 3.8–5.2 MB
  // a scavenge against about 0.1 MB (test/writer/gcRetention.system.test.ts).
  return Effect.gen(function* () {
    const collector = yield* makeCollector(options)
    carried = collector.carried
    while (true) {
      const taken = yield* collector.next
      if (taken === undefined) break
      group = taken
      options.onGroup?.(group.length)
      for (const request of group) {
        if (lifecycle.failure !== undefined) {
          reject(request, lifecycle.closedError())
          continue
        }
        switch (request._tag) {
          case "AppendOne":
            batchWriter.addOne(request)
            if (batchWriter.size() >= batchMaxEvents) yield* flush
            break
          case "AppendMany":
            // The WAL can only fail while a flush waits: check after each, not per event.
            for (let from = 0; from < request.count; ) {
              from += batchWriter.addRange(request, from, request.count - from)
              if (batchWriter.size() < batchMaxEvents) continue
              yield* flush
              if (lifecycle.failure !== undefined) break
            }
            break
          case "Command":
            yield* flush
            yield* drain
            if (lifecycle.failure !== undefined) reject(request, lifecycle.closedError())
            else yield* request.run
        }
      }
      yield* flush
      group = []
    }
    // The last batches may still be in flight when the queue ends: wait for them.
    yield* drain
  }).pipe(
    // Last resort against a bug in this loop: no request taken from the queue may be left waiting.
    Effect.onError(() =>
      Effect.sync(() => {
        rejectAll(group, lifecycle.closedError())
        rejectAll(carried(), lifecycle.closedError())
      })
    )
  )
}

// internals

const rejectAll = (requests: ReadonlyArray<WriterRequest>, error: ClosedError): void => {
  for (const request of requests) reject(request, error)
}
