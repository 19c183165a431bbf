// Writes every ```ts block of the README as its own module under examples/, so the consumer
// project type-checks exactly what the README shows. A block fenced ```ts is also run; one fenced
// ```ts check is only type-checked (it needs something CI does not have, such as a collector).
// Prints the names of the blocks to run, one a line. Runs on any Node from 20 on.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"

const [readmePath, outDir] = process.argv.slice(2)
if (readmePath === undefined || outDir === undefined) {
  console.error("usage: node extract-examples.mjs README.md OUT_DIR")
  process.exit(2)
}
const lines = readFileSync(readmePath, "utf8").split("\n")
mkdirSync(outDir, { recursive: true })
const toRun = []
let block
let count = 0
for (const [index, line] of lines.entries()) {
  if (block === undefined) {
    const fence = /^```(\S*)(?:\s+(\S+))?\s*$/.exec(line)
    if (fence === null) continue
    const [, language, mode] = fence
    block = { language, mode, startLine: index + 1, body: [] }
  } else if (line.startsWith("```")) {
    if (block.language === "ts") {
      if (block.mode !== undefined && block.mode !== "check") {
        console.error(
          `README.md:${block.startLine}: unknown mode "${block.mode}" (use \`\`\`ts or \`\`\`ts check)`
        )
        process.exit(1)
      }
      count += 1
      const name = `readme-${String(count).padStart(2, "0")}-line${block.startLine}`
      // The README line in the file, so a type error points back to the README.
      writeFileSync(
        join(outDir, `${name}.ts`),
        `// README.md line ${block.startLine}\n${block.body.join("\n")}\n`
      )
      if (block.mode === undefined) toRun.push(name)
    }
    block = undefined
  } else {
    block.body.push(line)
  }
}
if (block !== undefined) {
  console.error(`README.md:${block.startLine}: unterminated code block`)
  process.exit(1)
}
if (count === 0) {
  console.error("README.md has no ```ts example")
  process.exit(1)
}
console.log(toRun.join("\n"))
