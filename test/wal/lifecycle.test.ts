/**
 * `WalLifecycle` (src/internal/layers/Lifecycle.ts), the one lifecycle state of an open WAL: its
 * transitions Open → Failed → ShuttingDown → Closed (and Open → ShuttingDown), the reason a closed
 * WAL gives, and the invariants on sequence numbers that must stop the program rather than
 * corrupt the log: nothing reserved past 2^64 − 1, no durability mark that goes backwards or past
 * what was reserved, no Closed without ShuttingDown.
 */
import { assert, describe, it } from "@effect/vitest"
import { IoError } from "../../src/index.ts"
import { U64_MAX } from "../../src/internal/format/layout.ts"
import { WalLifecycle } from "../../src/internal/layers/Lifecycle.ts"

const DIR = "/wal"
const ioError = (operation: "write" | "sync") => new IoError({ operation, path: `${DIR}/x`, cause: "EIO" })

/** Runs `f`, which must throw the invariant error whose message includes `fragment`. */
const assertInvariant = (f: () => unknown, fragment: string) => {
  assert.throws(f, /tidal-wal invariant/)
  assert.throws(f, fragment)
}

describe("WalLifecycle: phases", () => {
  it("starts Open after the recovered sequence number, accepting writes", () => {
    const lifecycle = new WalLifecycle(DIR, 41n)
    assert.deepStrictEqual(lifecycle.phase, { _tag: "Open" })
    assert.isTrue(lifecycle.isOpen)
    assert.isUndefined(lifecycle.failure)
    assert.strictEqual(lifecycle.nextSeq, 42n)
    assert.strictEqual(lifecycle.lastDurableSeq, 41n)
  })

  it("Open → Failed keeps the first failure; later ones are refused; the closed reason is WriteFailed", () => {
    const lifecycle = new WalLifecycle(DIR, 0n)
    const first = ioError("sync")
    assert.isTrue(lifecycle.fail(first))
    assert.isFalse(lifecycle.fail(ioError("write")))
    assert.deepStrictEqual(lifecycle.phase, { _tag: "Failed", error: first })
    assert.isFalse(lifecycle.isOpen)
    assert.strictEqual(lifecycle.failure, first)
    const closed = lifecycle.closedError()
    assert.strictEqual(closed.reason, "WriteFailed")
    assert.strictEqual(closed.cause, first)
    assert.strictEqual(closed.dir, DIR)
  })

  it("Failed → ShuttingDown → Closed carries the failure through", () => {
    const lifecycle = new WalLifecycle(DIR, 0n)
    const failure = ioError("write")
    lifecycle.fail(failure)
    assert.isTrue(lifecycle.beginShutdown())
    assert.deepStrictEqual(lifecycle.phase, { _tag: "ShuttingDown", failure })
    assert.isFalse(lifecycle.beginShutdown(), "shutdown begins once")
    lifecycle.closed()
    assert.deepStrictEqual(lifecycle.phase, { _tag: "Closed", failure })
    assert.strictEqual(lifecycle.closedError().reason, "WriteFailed")
    assert.isFalse(lifecycle.beginShutdown())
  })

  it("Open → ShuttingDown → Closed: the reason is ShutDown; a failure during the drain is still recorded, once", () => {
    const lifecycle = new WalLifecycle(DIR, 0n)
    assert.isTrue(lifecycle.beginShutdown())
    assert.deepStrictEqual(lifecycle.phase, { _tag: "ShuttingDown", failure: undefined })
    assert.isFalse(lifecycle.isOpen, "no write is accepted once shutdown began")
    assert.strictEqual(lifecycle.closedError().reason, "ShutDown")
    const failure = ioError("sync")
    assert.isTrue(lifecycle.fail(failure), "the drain's failed sync is the WAL's failure")
    assert.isFalse(lifecycle.fail(ioError("write")))
    assert.deepStrictEqual(lifecycle.phase, { _tag: "ShuttingDown", failure })
    lifecycle.closed()
    assert.deepStrictEqual(lifecycle.phase, { _tag: "Closed", failure })
    assert.isFalse(lifecycle.fail(ioError("write")), "nothing changes once Closed")
    assert.deepStrictEqual(lifecycle.phase, { _tag: "Closed", failure })
  })

  it("Closed only from ShuttingDown: from Open, Failed or Closed it is a defect", () => {
    assertInvariant(() => new WalLifecycle(DIR, 0n).closed(), "closed() in phase Open")
    const failed = new WalLifecycle(DIR, 0n)
    failed.fail(ioError("write"))
    assertInvariant(() => failed.closed(), "closed() in phase Failed")
    const closed = new WalLifecycle(DIR, 0n)
    closed.beginShutdown()
    closed.closed()
    assertInvariant(() => closed.closed(), "closed() in phase Closed")
  })
})

describe("WalLifecycle: sequence numbers", () => {
  it("reserves consecutive ranges and marks them durable in order", () => {
    const lifecycle = new WalLifecycle(DIR, 10n)
    assert.strictEqual(lifecycle.reserveSeqs(3), 11n)
    assert.strictEqual(lifecycle.reserveSeqs(1), 14n)
    assert.strictEqual(lifecycle.nextSeq, 15n)
    lifecycle.markDurable(13n)
    assert.strictEqual(lifecycle.lastDurableSeq, 13n)
    lifecycle.markDurable(14n)
    assert.strictEqual(lifecycle.lastDurableSeq, 14n)
  })

  it("reserving nothing, or a negative count, is a defect", () => {
    const lifecycle = new WalLifecycle(DIR, 0n)
    assertInvariant(() => lifecycle.reserveSeqs(0), "reserving 0")
    assertInvariant(() => lifecycle.reserveSeqs(-1), "reserving -1")
    assert.strictEqual(lifecycle.nextSeq, 1n)
  })

  it("reserves up to 2^64 − 1 exactly; one more is a defect, and reserves nothing", () => {
    const lifecycle = new WalLifecycle(DIR, U64_MAX - 3n)
    assert.strictEqual(lifecycle.seqsRemaining(), 3n)
    assertInvariant(() => lifecycle.reserveSeqs(4), `${U64_MAX + 1n} passes u64`)
    assert.strictEqual(lifecycle.nextSeq, U64_MAX - 2n, "a refused reservation moved nothing")
    assert.strictEqual(lifecycle.reserveSeqs(3), U64_MAX - 2n)
    assert.strictEqual(lifecycle.seqsRemaining(), 0n)
    assertInvariant(() => lifecycle.reserveSeqs(1), "passes u64")
    lifecycle.markDurable(U64_MAX)
    assert.strictEqual(lifecycle.lastDurableSeq, U64_MAX)
  })

  it("a durable mark that goes backwards, stands still, or passes what was reserved is a defect", () => {
    const lifecycle = new WalLifecycle(DIR, 5n)
    lifecycle.reserveSeqs(10)
    lifecycle.markDurable(9n)
    assertInvariant(() => lifecycle.markDurable(8n), "durable mark 8 does not pass 9")
    assertInvariant(() => lifecycle.markDurable(9n), "durable mark 9 does not pass 9")
    assertInvariant(() => lifecycle.markDurable(16n), "durable mark 16 passes the reserved 15")
    assert.strictEqual(lifecycle.lastDurableSeq, 9n, "a refused mark moved nothing")
    lifecycle.markDurable(15n)
    assert.strictEqual(lifecycle.lastDurableSeq, 15n)
  })
})
