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

/** Renders a value so a reader can tell `1n` from `1` and `"1"`. */
export const formatValue = (value: unknown): string => {
  switch (typeof value) {
    case "bigint":
      return `${value}n`
    case "string":
      return JSON.stringify(value)
    case "undefined":
      return "undefined"
    case "number":
    case "boolean":
      return String(value)
    default:
      return value === null ? "null" : Object.prototype.toString.call(value)
  }
}

// internals

const valueAt = (input: unknown, path: ReadonlyArray<PropertyKey>): unknown => {
  let current: unknown = input
  for (const key of path) {
    if (typeof current !== "object" || current === null) return undefined
    current = (current as Record<PropertyKey, unknown>)[key]
  }
  return current
}
