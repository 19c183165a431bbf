/**
 * What an append did, as a type: `Written` with the event's sequence number, or `Duplicate` when
 * the dedup window already holds an identical event and nothing was written.
 *
 * `append` answers the same with a bigint, `0n` meaning a duplicate; that sentinel is easy to
 * pass on by mistake (`checkpoint(0n)` after a repeated event). `appendOutcome` and
 * `appendAllOutcomes` make the two cases impossible to confuse.
 *
 * A duplicate does not carry the original event's sequence number: the window would have to keep
 * 8 more bytes for each of its keys, and the original can be found with `read` when it matters.
 *
 * @since 0.2.0
 */
import { Data } from "effect"

/** @category models */
export type AppendOutcome = Data.TaggedEnum<{
  /** The event is durable under `seq`. */
  readonly Written: { readonly seq: bigint }
  /** An identical event is inside the dedup window: nothing was written. */
  // biome-ignore lint/complexity/noBannedTypes: Data.TaggedEnum spells a case without fields as {}
  readonly Duplicate: {}
}>

/**
 * Constructors, `$is` and `$match`: `AppendOutcome.$match(outcome, { Written: ({ seq }) => …,
 * Duplicate: () => … })`.
 *
 * @category constructors
 */
export const AppendOutcome = Data.taggedEnum<AppendOutcome>()

const DUPLICATE: AppendOutcome = AppendOutcome.Duplicate()

/** The outcome `append`'s answer stands for: `0n` is a duplicate, any other number written. */
export const outcomeOfSeq = (seq: bigint): AppendOutcome =>
  seq === 0n ? DUPLICATE : AppendOutcome.Written({ seq })
