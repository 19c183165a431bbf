/**
 * Turns a Schema decoding failure into the field, value and detail that our typed errors carry.
 *
 * Schema already knows which key failed and why; this reads its first issue so `InvalidEventError`
 * and `InvalidConfigError` can name the field and the offending value without a second rule set.
 */
import { SchemaIssue } from "effect"

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

export interface FirstIssue {
  readonly field: string
  readonly value: string
  readonly detail: string
}

export const firstIssue = (issue: SchemaIssue.Issue, input: unknown): FirstIssue => {
  const first = formatter(issue).issues[0]
  const path = (first?.path ?? []).map((segment) =>
    typeof segment === "object" && segment !== null && "key" in segment ? segment.key : segment
  )
  const field = path.length === 0 ? "(root)" : path.map(String).join(".")
  return { field, value: formatValue(valueAt(input, path)), detail: first?.message ?? "invalid" }
}

/** Strings longer than this are cut in messages: a value is shown to be recognised, not copied. */
const MAX_SHOWN_STRING_CHARS = 200

/**
 * Renders a value so a reader can tell `1n` from `1` and `"1"`. Never throws and never calls
 * into the value beyond its `Symbol.toStringTag`: an error about a hostile value (a Proxy whose
 * traps throw, a revoked Proxy) must still be built.
 */
export const formatValue = (value: unknown): string => {
  switch (typeof value) {
    case "bigint":
      return `${value}n`
    case "string":
      return value.length <= MAX_SHOWN_STRING_CHARS
        ? JSON.stringify(value)
        : `${JSON.stringify(value.slice(0, MAX_SHOWN_STRING_CHARS))}… (${value.length} chars)`
    case "undefined":
      return "undefined"
    case "number":
    case "boolean":
      return String(value)
    case "symbol":
      return value.toString()
    default:
      return value === null ? "null" : objectTag(value)
  }
}

/** What a getter, trap or iterator threw, for a message; never throws itself. */
export const describeThrown = (cause: unknown): string => {
  try {
    return cause instanceof Error ? cause.message : formatValue(cause)
  } catch {
    return "(unreadable error)"
  }
}

// internals

const objectTag = (value: unknown): string => {
  try {
    return Object.prototype.toString.call(value)
  } catch {
    return "[object (unreadable)]"
  }
}

const valueAt = (input: unknown, path: ReadonlyArray<PropertyKey>): unknown => {
  let current: unknown = input
  for (const key of path) {
    if (typeof current !== "object" || current === null) return undefined
    current = (current as Record<PropertyKey, unknown>)[key]
  }
  return current
}
