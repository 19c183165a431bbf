/**
 * What a stream must be for a WAL to ship into it (docs/JETSTREAM.md "Stream requirements").
 *
 * The shipper keeps no local state: where to resume is the last message on its subject. So the
 * stream must never delete that message on its own, must acknowledge publishes, must keep
 * duplicate ids long enough for a retry to be recognised, and must accept a message of the size
 * the shipper sends. Pure functions over the stream's configuration, so every rule is tested
 * without a server; the shipper refuses a stream that breaks one, naming the setting.
 */
import type { StreamConfig } from "@nats-io/jetstream"

/** NATS subject matching: `*` matches one token, a final `>` one or more. */
export const subjectMatches = (pattern: string, subject: string): boolean => {
  const patternTokens = pattern.split(".")
  const subjectTokens = subject.split(".")
  for (let i = 0; i < patternTokens.length; i++) {
    const token = patternTokens[i]
    if (token === ">") return i === patternTokens.length - 1 && subjectTokens.length > i
    if (i >= subjectTokens.length) return false
    if (token !== "*" && token !== subjectTokens[i]) return false
  }
  return patternTokens.length === subjectTokens.length
}

/** Why `subject` cannot be published to, or `undefined` when it is a valid literal subject. */
export const literalSubjectProblem = (subject: string): string | undefined => {
  if (subject.length === 0) return "the subject is empty"
  if (/\s/.test(subject)) return "a subject has no whitespace"
  const tokens = subject.split(".")
  if (tokens.some((token) => token.length === 0))
    return "a subject has no empty token (no leading, trailing or double dot)"
  if (tokens.some((token) => token === "*" || token === ">")) return "a subject to publish to has no wildcard"
  return undefined
}

/** What the shipper needs of the stream besides its fixed rules. */
export interface ShippingRequirements {
  readonly subject: string
  /** Shortest `duplicate_window` that still recognises a retry, in nanoseconds. */
  readonly minDuplicateWindowNanos: number
}

/**
 * Every setting of `config` that could lose, reorder or refuse the shipped copy; empty when the
 * stream is fit. Each entry names the setting and why.
 */
export const shippingProblems = (config: StreamConfig, requirements: ShippingRequirements): Array<string> => {
  const subjects = config.subjects ?? []
  const covered = subjects.some((pattern) => subjectMatches(pattern, requirements.subject))
  const coverage = covered ? [] : [`subjects [${subjects.join(", ")}] do not cover ${requirements.subject}`]
  return [...coverage, ...retentionProblems(config, requirements.minDuplicateWindowNanos)]
}

/** The settings, other than subjects, that make a stream unfit for a shipped copy. */
export const retentionProblems = (config: StreamConfig, minDuplicateWindowNanos: number): Array<string> => {
  const problems: Array<string> = []
  if (config.mirror !== undefined) problems.push("a mirror accepts no publishes")
  if (config.sealed === true) problems.push("the stream is sealed")
  if (config.no_ack === true) problems.push("no_ack: publishes would not be acknowledged")
  if (config.retention !== "limits") {
    problems.push(`retention ${config.retention}: consumers' acknowledgements would delete the copy`)
  }
  if (config.storage !== "file")
    problems.push(`storage ${config.storage}: a server restart would lose the copy`)
  if (config.max_age > 0)
    problems.push("max_age: the copy would expire, and with it the point to resume from")
  if (config.max_msgs_per_subject > 0) {
    problems.push("max_msgs_per_subject: the stream would drop the oldest events of the copy")
  }
  if (config.discard === "old" && (config.max_msgs > 0 || config.max_bytes > 0)) {
    problems.push(
      "discard old with max_msgs or max_bytes: the stream would drop shipped events; use discard new"
    )
  }
  if (config.duplicate_window < minDuplicateWindowNanos) {
    problems.push(
      `duplicate_window ${config.duplicate_window / 1e9} s is below ${minDuplicateWindowNanos / 1e9} s: a retry might not be recognised`
    )
  }
  return problems
}

/**
 * The largest body the shipper sends: what it was asked for, within the server's `max_payload`
 * and the stream's `max_msg_size` (either may be unlimited: -1 or 0), leaving room for headers.
 */
export const messageBytesWithin = (
  requestedBytes: number,
  serverMaxPayloadBytes: number | undefined,
  streamMaxMessageBytes: number
): number => {
  let bytes = requestedBytes
  if (serverMaxPayloadBytes !== undefined && serverMaxPayloadBytes > 0) {
    bytes = Math.min(bytes, serverMaxPayloadBytes - HEADER_ALLOWANCE_BYTES)
  }
  if (streamMaxMessageBytes > 0) bytes = Math.min(bytes, streamMaxMessageBytes - HEADER_ALLOWANCE_BYTES)
  return bytes
}

/** Room kept for the NATS headers (message id, WAL id, first seq, count, expectation): ~200 bytes used. */
export const HEADER_ALLOWANCE_BYTES = 512
