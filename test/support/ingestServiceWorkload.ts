/**
 * The client side of the ingest-service crash test: seeded random events, posters that send them
 * over HTTP until told to stop (or until the server dies under them), and a ledger of what the
 * server answered.
 *
 * Every new event is distinct (its timestamp carries a unique counter). A batch may also carry
 * deliberate duplicates — an event acknowledged earlier in this server's lifetime, or an event
 * repeated within the same batch — which must be answered "0" (not written again). A batch
 * whose answer never came (the server was killed) is "in doubt": it may or may not be durable.
 * Its events are posted again after the restart, as a real client would retry them.
 */
import { type SignalEvent, SignalType } from "../../src/index.ts"
import { xorshiftWords } from "./words.ts"

const BASE_TIMESTAMP_NANOS = 1_700_000_000_000_000_000n
const SIX_HOURS_SECONDS = 6 * 3600
const ENTITY_COUNT = 40

/** A seeded source of random choices. */
export interface Random {
  /** An integer in [0, n). */
  readonly int: (n: number) => number
  readonly chance: (probability: number) => boolean
}

export const makeRandom = (seed: number): Random => {
  const next = xorshiftWords(seed)
  const int = (n: number) => next() % n
  return { int, chance: (probability) => next() / 2 ** 32 < probability }
}

/** What the client knows from the server's answers. */
export interface Ledger {
  /** seq -> the event acknowledged with it, as stored (weight rounded to f32). */
  readonly acked: Map<bigint, SignalEvent>
  /** Events acknowledged since the server last started: their duplicates must answer "0". */
  readonly ackedThisLife: Array<SignalEvent>
  /** Events posted without an answer: retried after the restart. */
  readonly inDoubt: Array<SignalEvent>
  /** Counters for the report. */
  readonly counts: {
    posts: number
    deliberateDuplicates: number
    retried: number
    retriedWereDurable: number
  }
  /** The counter that makes every new event distinct. */
  nextEventNumber: number
}

export const emptyLedger = (): Ledger => ({
  acked: new Map(),
  ackedThisLife: [],
  inDoubt: [],
  counts: { posts: 0, deliberateDuplicates: 0, retried: 0, retriedWereDurable: 0 },
  nextEventNumber: 0
})

/** The identity of an event as the WAL stores it: weight rounded to f32. */
export const eventKey = (e: SignalEvent): string =>
  `${e.entityId}/${e.signalType}/${Math.fround(e.weight)}/${e.timestamp}`

const stored = (e: SignalEvent): SignalEvent => ({
  entityId: e.entityId,
  signalType: e.signalType,
  weight: Math.fround(e.weight),
  timestamp: e.timestamp
})

const SIGNAL_NAMES = Object.keys(SignalType)

/** The JSON the service accepts; about half the signal types go by name, half by number. */
const toJson = (e: SignalEvent, random: Random) => ({
  entityId: String(e.entityId),
  signalType:
    e.signalType < SIGNAL_NAMES.length && random.chance(0.5) ? SIGNAL_NAMES[e.signalType] : e.signalType,
  weight: e.weight,
  timestamp: String(e.timestamp)
})

const newEvent = (ledger: Ledger, random: Random): SignalEvent => {
  const number = ledger.nextEventNumber++
  return {
    entityId: BigInt(1 + random.int(ENTITY_COUNT)),
    signalType: random.chance(0.9) ? random.int(4) : 4 + random.int(252),
    // Quarters are exact in f32; 0.1 is not, and comes back as 0.10000000149011612.
    weight: random.chance(0.1) ? 0.1 : (random.int(16) - 4) / 4,
    // Spread over six hours of event time, out of order; the counter keeps each one distinct.
    timestamp: BASE_TIMESTAMP_NANOS + BigInt(random.int(SIX_HOURS_SECONDS)) * 1_000_000_000n + BigInt(number)
  }
}

type Slot =
  | { readonly kind: "new"; readonly event: SignalEvent }
  | { readonly kind: "duplicate"; readonly event: SignalEvent }
  | { readonly kind: "retry"; readonly event: SignalEvent }

const makeBatch = (ledger: Ledger, random: Random): Array<Slot> => {
  const slots: Array<Slot> = []
  const size = 1 + random.int(12)
  for (let i = 0; i < size; i++) {
    const earlierNew = slots.filter((slot) => slot.kind === "new")
    const roll = random.int(100)
    const acked = ledger.ackedThisLife[random.int(Math.max(1, ledger.ackedThisLife.length))]
    const repeated = earlierNew[random.int(Math.max(1, earlierNew.length))]
    if (roll < 8 && acked !== undefined) slots.push({ kind: "duplicate", event: acked })
    else if (roll < 12 && repeated !== undefined) slots.push({ kind: "duplicate", event: repeated.event })
    else slots.push({ kind: "new", event: newEvent(ledger, random) })
  }
  return slots
}

/** Thrown when the server answers something a correct server never would. */
export class WrongAnswer extends Error {}

/**
 * Posts `slots`; records the answers. Resolves false if the request failed at the transport level
 * (the server is gone: the new events are now in doubt), true when answered.
 */
const postSlots = async (url: string, slots: ReadonlyArray<Slot>, ledger: Ledger, random: Random) => {
  const [only] = slots
  // One event alone goes as a bare object half of the time: the API takes both forms.
  const body =
    only !== undefined && slots.length === 1 && random.chance(0.5)
      ? toJson(only.event, random)
      : slots.map((slot) => toJson(slot.event, random))
  let response: Response
  try {
    response = await fetch(`${url}/events`, { method: "POST", body: JSON.stringify(body) })
  } catch {
    for (const slot of slots) if (slot.kind !== "duplicate") ledger.inDoubt.push(slot.event)
    return false
  }
  ledger.counts.posts++
  const answer = (await response.json()) as { readonly seqs?: ReadonlyArray<string>; readonly error?: string }
  if (response.status !== 200 || answer.seqs?.length !== slots.length) {
    throw new WrongAnswer(`POST /events answered ${response.status} ${JSON.stringify(answer)}`)
  }
  slots.forEach((slot, i) => {
    recordAnswer(ledger, slot, BigInt(answer.seqs?.[i] ?? "-1"))
  })
  return true
}

const recordAnswer = (ledger: Ledger, slot: Slot, seq: bigint) => {
  if (slot.kind === "duplicate") {
    if (seq !== 0n) throw new WrongAnswer(`duplicate ${eventKey(slot.event)} was written again as seq ${seq}`)
    ledger.counts.deliberateDuplicates++
    return
  }
  if (slot.kind === "retry") {
    ledger.counts.retried++
    if (seq === 0n) ledger.counts.retriedWereDurable++
  }
  if (slot.kind === "new" && seq === 0n) throw new WrongAnswer(`new event ${eventKey(slot.event)} answered 0`)
  if (seq === 0n) return
  if (ledger.acked.has(seq)) throw new WrongAnswer(`seq ${seq} acknowledged twice`)
  ledger.acked.set(seq, stored(slot.event))
  ledger.ackedThisLife.push(slot.event)
}

/** Posts every in-doubt event again (after a restart), in batches; all must be answered. */
export const retryInDoubt = async (url: string, ledger: Ledger, random: Random): Promise<void> => {
  const events = ledger.inDoubt.splice(0)
  for (let i = 0; i < events.length; i += 50) {
    const slots = events.slice(i, i + 50).map((event): Slot => ({ kind: "retry", event }))
    if (!(await postSlots(url, slots, ledger, random))) throw new WrongAnswer("a retry after restart failed")
  }
}

/** Posts random batches until `stopped()` or until the server goes away. */
export const postUntil = async (
  url: string,
  ledger: Ledger,
  random: Random,
  stopped: () => boolean
): Promise<void> => {
  while (!stopped()) {
    if (!(await postSlots(url, makeBatch(ledger, random), ledger, random))) return
  }
}
