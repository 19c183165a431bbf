/**
 * Sequence numbers as an operator types them: decimal digits only (no sign, no exponent, no hex,
 * no separators), at most a u64. The parse is exact for every u64, which a JavaScript number
 * (exact only up to 2^53) is not.
 */
import { Option } from "effect"
import { U64_MAX } from "../internal/format/layout.ts"

export { U64_MAX }

/** `text` as a u64 bigint, or none when it is not one. */
export const parseSequenceNumber = (text: string): Option.Option<bigint> => {
  // 20 digits hold every u64; more (even with leading zeros) is refused rather than trimmed.
  if (!/^\d{1,20}$/.test(text)) return Option.none()
  const value = BigInt(text)
  return value <= U64_MAX ? Option.some(value) : Option.none()
}
