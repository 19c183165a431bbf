/**
 * Group formation (src/internal/writer/batchCollector.ts), on virtual time: what is taken beyond
 * whole batches is carried, in order, to start the next group (which then gets a full window of
 * its own); a command ends a group; the window is stepped only when a group has to wait, with
 * that group's size and the previous group's; the eager policy never waits.
 *
 * Method: requests are offered to a queue by hand and `makeCollector` is run against it. Whether
 * a group is ready is read once every fiber that can run has run while `TestClock` stands still,
 * so "did not wait" and "still waiting" are exact, never a matter of real time.
 */
import { assert, describe, it } from "@effect/vitest"
import { type Cause, Duration, Effect, type Fiber, Queue, Schedule } from "effect"
import { TestClock } from "effect/testing"
import type { GroupCommitInput, GroupCommitWindow } from "../../src/GroupCommitWindow.ts"
import { captureEvents } from "../../src/internal/wal/captureEvents.ts"
import { makeCollector } from "../../src/internal/writer/batchCollector.ts"
import {
  type AppendMany,
  type AppendOne,
  appendMany,
  appendOne,
  type Command,
  NOT_TIMED,
  type WriterRequest
} from "../../src/internal/writer/requests.ts"
import { InvalidEventError } from "../../src/WalError.ts"
import { eventFor, eventsFor } from "../support/wal.ts"

const BATCH_MAX_EVENTS = 10
const WINDOW_MILLIS = 7

const one = (i: number): AppendOne => appendOne(eventFor(i), NOT_TIMED, undefined)
const many = (count: number, from: number): AppendMany => {
  const captured = captureEvents(eventsFor(count, from))
  if (captured instanceof InvalidEventError) throw captured
  return appendMany(captured, undefined)
}
const command = (): Command => ({ _tag: "Command", run: Effect.void, reject: () => {} })

/** A window of `WINDOW_MILLIS` that records every input it is stepped with. */
const recordingWindow = () => {
  const steps: Array<GroupCommitInput> = []
  const window: GroupCommitWindow = Schedule.fromStepWithMetadata(
    Effect.succeed((meta: Schedule.InputMetadata<GroupCommitInput>) =>
      Effect.sync(() => {
        steps.push(meta.input)
        return [meta.attempt, Duration.millis(WINDOW_MILLIS)] as [number, Duration.Duration]
      })
    )
  )
  return { window, steps }
}

const collector = (window: GroupCommitWindow | "eager") =>
  Effect.gen(function* () {
    const queue = yield* Queue.bounded<WriterRequest, Cause.Done>(1000)
    const nextGroup = (yield* makeCollector({ queue, batchMaxEvents: BATCH_MAX_EVENTS, window })).next
    return { queue, nextGroup }
  })

/** The group `fiber` returned, once every fiber that can run has run; `undefined` if it still waits. */
const readyGroup = (fiber: Fiber.Fiber<ReadonlyArray<WriterRequest> | undefined>) =>
  Effect.gen(function* () {
    for (let turn = 0; turn < 20; turn++) yield* Effect.yieldNow
    const exit = fiber.pollUnsafe()
    if (exit === undefined) return undefined
    if (exit._tag === "Failure") return yield* Effect.die(new Error("the collector failed"))
    return exit.value ?? []
  })

const waiting = (fiber: Fiber.Fiber<ReadonlyArray<WriterRequest> | undefined>) =>
  Effect.map(readyGroup(fiber), (group) => group === undefined)

describe("collector: carry-over", () => {
  it.effect(
    "25 queued: a group of 20 at once; the 5 left over start the next group, which gets its own window",
    () =>
      Effect.gen(function* () {
        const { window, steps } = recordingWindow()
        const { queue, nextGroup } = yield* collector(window)
        const requests = Array.from({ length: 25 }, (_, i) => one(i))
        yield* Queue.offerAll(queue, requests)
        const first = yield* readyGroup(yield* Effect.forkChild(nextGroup))
        assert.deepStrictEqual(first, requests.slice(0, 20), "whole batches, at once")
        assert.strictEqual(steps.length, 0, "a full group never steps the window")
        // The carried 5 make a group that waits its full window, from when it starts.
        yield* TestClock.adjust("100 millis")
        const second = yield* Effect.forkChild(nextGroup)
        yield* TestClock.adjust(`${WINDOW_MILLIS - 1} millis`)
        assert.isTrue(yield* waiting(second), "the carried group went before its window")
        yield* TestClock.adjust("1 millis")
        assert.deepStrictEqual(yield* readyGroup(second), requests.slice(20))
        assert.deepStrictEqual(steps, [{ groupEvents: 5, previousGroupEvents: 10, batchMaxEvents: 10 }])
      })
  )

  it.effect("the carried requests come first, in order, and what arrives fills the group at once", () =>
    Effect.gen(function* () {
      const { queue, nextGroup } = yield* collector(recordingWindow().window)
      const requests = Array.from({ length: 30 }, (_, i) => one(i))
      yield* Queue.offerAll(queue, requests.slice(0, 15))
      assert.deepStrictEqual(yield* nextGroup, requests.slice(0, 10))
      const second = yield* Effect.forkChild(nextGroup)
      assert.isTrue(yield* waiting(second))
      yield* Queue.offerAll(queue, requests.slice(15, 30))
      // Full at 10 events: 20 of the 30 form whole batches, without waiting out the window.
      assert.deepStrictEqual(yield* readyGroup(second), requests.slice(10, 30))
    })
  )

  it.effect("a group is cut after whole requests: an appendAll chunk is never split across groups", () =>
    Effect.gen(function* () {
      const { queue, nextGroup } = yield* collector(recordingWindow().window)
      const requests = [many(7, 0), many(7, 7), one(14), one(15)]
      yield* Queue.offerAll(queue, requests)
      // 16 events: the request that completes the first 10 ends the group (14 events).
      assert.deepStrictEqual(yield* nextGroup, requests.slice(0, 2))
      const second = yield* Effect.forkChild(nextGroup)
      assert.isTrue(yield* waiting(second))
      yield* TestClock.adjust(`${WINDOW_MILLIS} millis`)
      assert.deepStrictEqual(yield* readyGroup(second), requests.slice(2))
    })
  )
})

describe("collector: commands", () => {
  it.effect("a command ends the group at once; what follows it is carried to the next", () =>
    Effect.gen(function* () {
      const { window, steps } = recordingWindow()
      const { queue, nextGroup } = yield* collector(window)
      const requests = [one(1), one(2), command(), one(3), one(4)]
      yield* Queue.offerAll(queue, requests)
      const first = yield* readyGroup(yield* Effect.forkChild(nextGroup))
      assert.deepStrictEqual(first, requests.slice(0, 3), "did not wait out the window")
      assert.strictEqual(steps.length, 0)
      const second = yield* Effect.forkChild(nextGroup)
      assert.isTrue(yield* waiting(second))
      yield* TestClock.adjust(`${WINDOW_MILLIS} millis`)
      assert.deepStrictEqual(yield* readyGroup(second), requests.slice(3))
    })
  )

  it.effect("a command arriving while a group waits ends the wait", () =>
    Effect.gen(function* () {
      const { queue, nextGroup } = yield* collector(recordingWindow().window)
      const first = one(1)
      const checkpoint = command()
      yield* Queue.offer(queue, first)
      const group = yield* Effect.forkChild(nextGroup)
      yield* TestClock.adjust("2 millis")
      assert.isTrue(yield* waiting(group))
      yield* Queue.offer(queue, checkpoint)
      assert.deepStrictEqual(yield* readyGroup(group), [first, checkpoint])
    })
  )
})

describe("collector: the window", () => {
  it.effect("is stepped only for a group that must wait, with its size and the previous group's", () =>
    Effect.gen(function* () {
      const { window, steps } = recordingWindow()
      const { queue, nextGroup } = yield* collector(window)
      // Full at once: no step.
      yield* Queue.offerAll(
        queue,
        Array.from({ length: 10 }, (_, i) => one(i))
      )
      yield* nextGroup
      // Three waiting: a step; two more arrive in the window and the group goes at its end.
      yield* Queue.offerAll(queue, [one(10), one(11), one(12)])
      const partial = yield* Effect.forkChild(nextGroup)
      assert.isTrue(yield* waiting(partial))
      yield* Queue.offerAll(queue, [one(13), one(14)])
      assert.isTrue(yield* waiting(partial), "5 of 10 events: still waiting")
      yield* TestClock.adjust(`${WINDOW_MILLIS} millis`)
      assert.strictEqual((yield* readyGroup(partial))?.length, 5)
      assert.deepStrictEqual(steps, [{ groupEvents: 3, previousGroupEvents: 10, batchMaxEvents: 10 }])
      // A lone request after that group of 5: stepped with 1 and 5.
      yield* Queue.offer(queue, one(15))
      const lone = yield* Effect.forkChild(nextGroup)
      yield* TestClock.adjust(`${WINDOW_MILLIS} millis`)
      assert.strictEqual((yield* readyGroup(lone))?.length, 1)
      assert.deepStrictEqual(steps.at(-1), { groupEvents: 1, previousGroupEvents: 5, batchMaxEvents: 10 })
      // A command: no step.
      yield* Queue.offer(queue, command())
      assert.strictEqual((yield* readyGroup(yield* Effect.forkChild(nextGroup)))?.length, 1)
      assert.strictEqual(steps.length, 2)
    })
  )

  it.effect(
    "an idle collector sets no timer: it waits for the queue, and the window starts at the first request",
    () =>
      Effect.gen(function* () {
        const { window, steps } = recordingWindow()
        const { queue, nextGroup } = yield* collector(window)
        const group = yield* Effect.forkChild(nextGroup)
        yield* TestClock.adjust("1 second")
        assert.isTrue(yield* waiting(group))
        assert.strictEqual(steps.length, 0)
        yield* Queue.offer(queue, one(1))
        yield* TestClock.adjust(`${WINDOW_MILLIS - 1} millis`)
        assert.isTrue(yield* waiting(group))
        yield* TestClock.adjust("1 millis")
        assert.strictEqual((yield* readyGroup(group))?.length, 1)
      })
  )

  it.effect(
    "a queue that ends while a group waits: the group goes with what it holds, then no more groups",
    () =>
      Effect.gen(function* () {
        const { queue, nextGroup } = yield* collector(recordingWindow().window)
        const requests = [one(1), one(2)]
        yield* Queue.offerAll(queue, requests)
        const group = yield* Effect.forkChild(nextGroup)
        assert.isTrue(yield* waiting(group))
        yield* Queue.end(queue)
        assert.deepStrictEqual(yield* readyGroup(group), requests)
        assert.isUndefined(yield* nextGroup)
      })
  )
})

describe("collector: eager", () => {
  it.effect("never waits: a lone request goes at once, and everything queued goes as one group", () =>
    Effect.gen(function* () {
      const { queue, nextGroup } = yield* collector("eager")
      const lone = one(0)
      yield* Queue.offer(queue, lone)
      assert.deepStrictEqual(yield* readyGroup(yield* Effect.forkChild(nextGroup)), [lone])
      const requests = Array.from({ length: 25 }, (_, i) => one(i + 1))
      yield* Queue.offerAll(queue, requests)
      // Not cut at whole batches: the writer splits what it is given into batches.
      assert.deepStrictEqual(yield* readyGroup(yield* Effect.forkChild(nextGroup)), requests)
      // An empty queue: it waits for a request, not for a timer.
      const idle = yield* Effect.forkChild(nextGroup)
      assert.isTrue(yield* waiting(idle))
      const next = one(26)
      yield* Queue.offer(queue, next)
      assert.deepStrictEqual(yield* readyGroup(idle), [next])
    })
  )
})
