/**
 * Issue #14 items 6 and 7: what package.json promises a consumer. Every export has its compiled
 * file and types under dist/ and a source the build compiles them from; no condition points at
 * TypeScript that Node refuses to strip under node_modules; `files` ships dist/, src/ (where the
 * declaration maps lead) and the bin, and no tests; the bin runs dist/ without looking for
 * `node_modules` in its own path (which breaks on Windows). `.ci/consumer-install` checks the
 * packed tarball itself.
 */
import { existsSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"

const root = (relative: string): string => fileURLToPath(new URL(`../../${relative}`, import.meta.url))
const readJson = (relative: string): Record<string, unknown> =>
  JSON.parse(readFileSync(root(relative), "utf8")) as Record<string, unknown>

const manifest = readJson("package.json")

interface ConditionalExport {
  readonly types: string
  readonly default: string
}

describe("package.json", () => {
  it("each export is dist/ JavaScript with its types first, compiled from a source file in src/", () => {
    const exports = manifest.exports as Record<string, ConditionalExport | string>
    assert.deepStrictEqual(Object.keys(exports), [".", "./jetstream", "./package.json"])
    for (const [subpath, target] of Object.entries(exports)) {
      if (subpath === "./package.json") continue
      assert.isObject(target, subpath)
      if (typeof target === "string") continue
      assert.deepStrictEqual(Object.keys(target), ["types", "default"], `${subpath}: no other condition`)
      assert.match(target.default, /^\.\/dist\/.+\.js$/)
      assert.strictEqual(target.types, target.default.replace(/\.js$/, ".d.ts"))
      const source = target.default.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts")
      assert.isTrue(existsSync(root(source)), `${subpath}: ${source} exists`)
    }
  })

  it("ships dist/, the sources the declaration maps point to, and the bin; no tests, no types/", () => {
    assert.deepStrictEqual(manifest.files, [
      "dist/**/*.js",
      "dist/**/*.js.map",
      "dist/**/*.d.ts",
      "dist/**/*.d.ts.map",
      "src/**/*.ts",
      "bin/tidal-wal.js"
    ])
    const build = readJson("tsconfig.build.json").compilerOptions as Record<string, unknown>
    assert.include(build, {
      declaration: true,
      declarationMap: true,
      sourceMap: true,
      rootDir: "src",
      outDir: "dist"
    })
  })

  it("says where it comes from, under which licence, and which Node it needs", () => {
    assert.include(manifest, {
      license: "MIT",
      type: "module",
      sideEffects: false,
      homepage: "https://github.com/tidal-wal/tidal-wal#readme"
    })
    assert.deepStrictEqual(manifest.repository, {
      type: "git",
      url: "git+https://github.com/tidal-wal/tidal-wal.git"
    })
    assert.deepStrictEqual(manifest.bugs, { url: "https://github.com/tidal-wal/tidal-wal/issues" })
    assert.deepStrictEqual(manifest.engines, { node: ">=22.19.0" })
    assert.match(
      readFileSync(root("LICENSE"), "utf8"),
      /^MIT License\n\nCopyright \(c\) 2026 tidal-wal authors\n/
    )
  })

  it("effect and @effect/platform-node are peers, so a consumer has one effect", () => {
    const peers = manifest.peerDependencies as Record<string, string>
    const dependencies = (manifest.dependencies ?? {}) as Record<string, string>
    for (const name of ["effect", "@effect/platform-node"]) {
      assert.property(peers, name)
      assert.notProperty(dependencies, name)
    }
  })

  it("the bin runs dist/ and never looks for node_modules in its path", () => {
    const bin = readFileSync(root("bin/tidal-wal.js"), "utf8")
    assert.notInclude(bin, "node_modules")
    assert.include(bin, '"../dist/cli/main.js"')
  })
})
