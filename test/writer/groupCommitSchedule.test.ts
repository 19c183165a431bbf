/**
 * The group-commit window is a real `Schedule` the collector consults: the delay it answers is
 * the wait, its input is the group's size and the previous group's, and once it ends groups go at
 * once. On virtual time (`TestClock`), against the collector alone.
 */
import { assert, describe, it } from "@effect/vitest"
import { type Cause, Duration, Effect, Fiber, Queue, Schedule } from "effect"
import { TestClock } from "effect/testing"
import * as GroupCommit from "../../src/GroupCommitWindow.ts"
import { WalHandle } from "../../src/index.ts"
import { makeCollector } from "../../src/internal/writer/batchCollector.ts"
import { appendOne, type WriterRequest } from "../../src/internal/writer/requests.ts"
import { eventFor, nodeLayer, tempDir } from "../support/wal.ts"

const request = (i: number): WriterRequest => appendOne(eventFor(i), -1, undefined)

const collectorWith = (window: GroupCommit.GroupCommitWindow | "eager") =>
  Effect.gen(function* () {
    const queue = yield* Queue.bounded<WriterRequest, Cause.Done>(100)
    const nextGroup = (yield* makeCollector({ queue, batchMaxEvents: 10, window })).next
    return { queue, nextGroup }
  })

/** Whether `fiber` finished once every fiber that can run has run (virtual time stands still). */
const isDone = (fiber: Fiber.Fiber<unknown, unknown>) =>
  Effect.andThen(
    Effect.yieldNow,
    Effect.sync(() => fiber.pollUnsafe() !== undefined)
  )

describe("group-commit schedule", () => {
  it.effect("the window's delay is the wait: a lone request waits it out, not a millisecond less", () =>
    Effect.gen(function* () {
      const { queue, nextGroup } = yield* collectorWith(GroupCommit.window(Duration.millis(7)))
      yield* Queue.offer(queue, request(1))
      const group = yield* Effect.forkChild(nextGroup)
      yield* TestClock.adjust("6 millis")
      assert.isFalse(yield* isDone(group))
      yield* TestClock.adjust("1 millis")
      assert.strictEqual((yield* Fiber.join(group))?.length, 1)
    })
  )

  it.effect("adaptive: a lone sequential appender never waits; overlapping callers get the window", () =>
    Effect.gen(function* () {
      const { queue, nextGroup } = yield* collectorWith(GroupCommit.adaptive(Duration.millis(10)))
      // Sequential: one request at a time, each group of one — no group waits.
      for (let i = 0; i < 3; i++) {
        yield* Queue.offer(queue, request(i))
        const group = yield* Effect.forkChild(nextGroup)
        assert.isTrue(yield* isDone(group), `sequential request ${i} went at once`)
      }
      // Two callers overlap: the group after a group of two waits the window.
      yield* Queue.offerAll(queue, [request(10), request(11)])
      assert.strictEqual((yield* nextGroup)?.length, 2)
      yield* Queue.offer(queue, request(12))
      const waiting = yield* Effect.forkChild(nextGroup)
      assert.isFalse(yield* isDone(waiting))
      yield* TestClock.adjust("10 millis")
      assert.strictEqual((yield* Fiber.join(waiting))?.length, 1)
    })
  )

  it.effect("a schedule that ends makes every later group go at once", () =>
    Effect.gen(function* () {
      const once: GroupCommit.GroupCommitWindow = Schedule.spaced(Duration.millis(5)).pipe(
        Schedule.upTo({ times: 1 })
      )
      const { queue, nextGroup } = yield* collectorWith(once)
      yield* Queue.offer(queue, request(1))
      const first = yield* Effect.forkChild(nextGroup)
      assert.isFalse(yield* isDone(first))
      yield* TestClock.adjust("5 millis")
      yield* Fiber.join(first)
      for (let i = 2; i < 5; i++) {
        yield* Queue.offer(queue, request(i))
        const later = yield* Effect.forkChild(nextGroup)
        assert.isTrue(yield* isDone(later), `group ${i} did not wait`)
      }
    })
  )
})

describe("GroupCommitWindow.layer", () => {
  it.effect(
    "a WAL under GroupCommitWindow.layer(adaptive) answers a sequential appender without the window",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const [wal] = yield* WalHandle.open({ dir, batchMaxWait: "1 second" })
        // Virtual time stands still: under the config's 1 s window these would never complete.
        for (let i = 1; i <= 3; i++) {
          const append = yield* Effect.forkChild(wal.append(eventFor(i)))
          assert.strictEqual(yield* Fiber.join(append), BigInt(i))
        }
      }).pipe(
        Effect.provideService(GroupCommit.GroupCommitSchedule, GroupCommit.adaptive(Duration.millis(1000))),
        Effect.provide(nodeLayer)
      )
  )
})

describe("GroupCommitWindow.layer from plain JavaScript", () => {
  it.live("something that is not a Schedule fails open with InvalidConfigError naming it", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const notASchedule = { step: "nope" } as unknown as GroupCommit.GroupCommitWindow
      const error = yield* Effect.flip(
        Effect.scoped(WalHandle.open({ dir })).pipe(
          Effect.provideService(GroupCommit.GroupCommitSchedule, notASchedule)
        )
      )
      assert.strictEqual(error._tag, "InvalidConfigError")
      if (error._tag === "InvalidConfigError") assert.strictEqual(error.field, "GroupCommitSchedule")
      // The lock was released with the failed open: the directory opens again.
      yield* Effect.scoped(WalHandle.open({ dir }))
    }).pipe(Effect.provide(nodeLayer))
  )
})
