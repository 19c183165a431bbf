/**
 * The command line's version: the package's own, read from its package.json, so `--version`
 * cannot drift from what was installed.
 *
 * The path is relative to this module and holds in both places it runs from: the source
 * (`src/cli/version.ts`) and the compiled package (`dist/cli/version.js`) are both two levels
 * below the package root. A JSON import (`with { type: "json" }`) would say the same, but the
 * compiler would then count package.json as part of the source tree, which lies outside
 * `rootDir`; `createRequire` reads it at run time, as Node's module loader (cached, once).
 */
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { ProblemFound } from "./errors.ts"

const PACKAGE_JSON = "../../package.json"

/** The `version` field of the package's package.json; a broken install is a `ProblemFound`. */
export const packageVersion: Effect.Effect<string, ProblemFound> = Effect.suspend(() => {
  const where = fileURLToPath(new URL(PACKAGE_JSON, import.meta.url))
  return Effect.try({
    try: (): unknown => createRequire(import.meta.url)(PACKAGE_JSON),
    catch: (cause) => new ProblemFound({ message: `cannot read ${where}: ${String(cause)}` })
  }).pipe(
    Effect.flatMap((manifest) => {
      const version =
        typeof manifest === "object" && manifest !== null && "version" in manifest
          ? manifest.version
          : undefined
      return typeof version === "string" && version.length > 0
        ? Effect.succeed(version)
        : Effect.fail(new ProblemFound({ message: `${where} has no "version" string` }))
    })
  )
})
