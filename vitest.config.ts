import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // The memory tests force a collection before sampling, to measure what is retained, not garbage.
    execArgv: ["--expose-gc"]
  }
})
