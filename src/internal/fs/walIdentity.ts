/**
 * The WAL directory's identity: 128 random bits, written once, durably, at the first open, and
 * read back by every later open (docs/FORMAT.md "The identity file").
 *
 * Something outside this machine (a JetStream stream, a materializer's snapshot) can then tell
 * this log from any other: two directories never share an id, and a restart never changes it.
 * A file that exists but is not an id is corruption, never replaced: a new id would make every
 * consumer see a different log.
 */
import { Effect, type FileSystem, type Path } from "effect"
import { CorruptionError, type IoError } from "../../WalError.ts"
import { atomicReplace, readFileIfExists } from "./durable.ts"

export const WAL_ID_FILE = "wal-id"

/** 32 lowercase hex digits, then a newline (so `cat` shows it on a line of its own). */
const WAL_ID_PATTERN = /^[0-9a-f]{32}\n$/

/** The directory's id, created (temp file, sync, rename, directory sync) if it has none yet. */
export const readOrCreateWalId = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  dir: string
): Effect.Effect<string, IoError | CorruptionError> =>
  Effect.gen(function* () {
    const file = path.join(dir, WAL_ID_FILE)
    const existing = yield* readFileIfExists(fs, file)
    if (existing !== undefined) return yield* parseWalId(file, existing)
    const id = randomWalId()
    // A temp file left by a cut during an earlier creation is overwritten: that id was never
    // durable, so no one can have seen it.
    yield* atomicReplace(fs, dir, file, new TextEncoder().encode(`${id}\n`))
    return id
  })

const parseWalId = (file: string, bytes: Uint8Array): Effect.Effect<string, CorruptionError> => {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes)
  return WAL_ID_PATTERN.test(text)
    ? Effect.succeed(text.slice(0, 32))
    : Effect.fail(
        new CorruptionError({
          file,
          offsetBytes: 0,
          reason: "BadWalId",
          detail: `expected 32 lowercase hex digits and a newline, found ${bytes.byteLength} bytes`
        })
      )
}

const randomWalId = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("")
}
