/**
 * The snapshot of the aggregates: its JSON form, an atomic replace, and loading it back.
 *
 * A snapshot holds the aggregates together with the sequence number of the last event applied
 * to them, so the two can never disagree. It is replaced atomically — written to
 * `aggregates.json.tmp`, synced, renamed over `aggregates.json`, and the directory synced — so
 * after a crash at any moment the file is either the previous snapshot or the new one, whole.
 * It also records the WAL's identity and the half-life, so it is never applied to another WAL
 * or read with a different decay.
 */
import { Effect, type FileSystem, Option, type Path, type PlatformError, Schema } from "effect"
import type { AggregateState, EntityAggregate } from "./aggregates.ts"

const FORMAT = "ingest-service-snapshot/1"

const EntityJson = Schema.Struct({
  eventCount: Schema.Int,
  countsBySignal: Schema.Record(Schema.String, Schema.Int),
  score: Schema.Finite,
  scoreAtNanos: Schema.BigInt
})

const SnapshotSchema = Schema.Struct({
  format: Schema.Literal(FORMAT),
  walId: Schema.String,
  halfLifeNanos: Schema.BigInt,
  appliedSeq: Schema.BigInt,
  entities: Schema.Array(Schema.Tuple([Schema.BigInt, EntityJson]))
})

/** JSON text <-> snapshot; bigints are decimal strings, numbers are exact (shortest round trip). */
const SnapshotJson = Schema.fromJsonString(Schema.toCodecJson(SnapshotSchema))
const encodeSnapshot = Schema.encodeSync(SnapshotJson)
const decodeSnapshot = Schema.decodeUnknownEffect(SnapshotJson)

/** What a snapshot stands for, besides the aggregates themselves. */
export interface SnapshotIdentity {
  readonly walId: string
  readonly halfLifeNanos: bigint
}

/** Reading or writing the snapshot failed; `detail` says what and where. */
export class SnapshotError extends Schema.TaggedError<SnapshotError>()("SnapshotError", {
  path: Schema.String,
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {
  override get message(): string {
    return `snapshot ${this.path}: ${this.detail}`
  }
}

/**
 * The state as JSON text, serialized in one synchronous step: no event can be applied halfway
 * through, so the text is exactly the aggregates of events 1 to `appliedSeq`.
 */
export const serializeSnapshot = (state: AggregateState, identity: SnapshotIdentity): string =>
  encodeSnapshot({
    format: FORMAT,
    walId: identity.walId,
    halfLifeNanos: identity.halfLifeNanos,
    appliedSeq: state.appliedSeq,
    entities: Array.from(state.entities, ([entityId, aggregate]) => [entityId, { ...aggregate }] as const)
  })

/** Replaces `file` with `text` atomically and durably: temp file, fsync, rename, fsync directory. */
export const writeSnapshot = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  file: string,
  text: string
): Effect.Effect<void, SnapshotError> => {
  const temp = `${file}.tmp`
  const failed = (detail: string) => (cause: PlatformError.PlatformError) =>
    new SnapshotError({ path: file, detail, cause })
  return Effect.gen(function* () {
    yield* Effect.scoped(
      Effect.gen(function* () {
        const handle = yield* fs.open(temp, { flag: "w" })
        yield* handle.writeAll(new TextEncoder().encode(text))
        yield* handle.sync // the bytes are on disk before the name points at them
      })
    ).pipe(Effect.mapError(failed(`writing ${temp}`)))
    yield* fs.rename(temp, file).pipe(Effect.mapError(failed(`renaming ${temp}`)))
    yield* Effect.scoped(
      Effect.flatMap(fs.open(path.dirname(file), { flag: "r" }), (dir) => dir.sync) // the rename itself
    ).pipe(Effect.mapError(failed("syncing its directory")))
  })
}

/** The snapshot in `file`, or none if there is no file yet (a new service). */
export const readSnapshot = (
  fs: FileSystem.FileSystem,
  file: string,
  expected: SnapshotIdentity
): Effect.Effect<Option.Option<AggregateState>, SnapshotError> =>
  Effect.gen(function* () {
    const text = yield* fs.readFileString(file).pipe(
      Effect.map(Option.some),
      Effect.catchReason("PlatformError", "NotFound", () => Effect.succeedNone),
      Effect.mapError((cause) => new SnapshotError({ path: file, detail: "cannot be read", cause }))
    )
    if (Option.isNone(text)) return Option.none()
    const snapshot = yield* decodeSnapshot(text.value).pipe(
      Effect.mapError(
        (cause) => new SnapshotError({ path: file, detail: `is not a snapshot: ${cause.message}` })
      )
    )
    if (snapshot.walId !== expected.walId) {
      return yield* new SnapshotError({
        path: file,
        detail: `belongs to WAL ${snapshot.walId}, but the WAL here is ${expected.walId}`
      })
    }
    if (snapshot.halfLifeNanos !== expected.halfLifeNanos) {
      return yield* new SnapshotError({
        path: file,
        detail: `was built with a half-life of ${snapshot.halfLifeNanos} ns, not ${expected.halfLifeNanos} ns`
      })
    }
    const entities = new Map<bigint, EntityAggregate>(
      snapshot.entities.map(([entityId, aggregate]) => [
        entityId,
        { ...aggregate, countsBySignal: { ...aggregate.countsBySignal } }
      ])
    )
    return Option.some({ appliedSeq: snapshot.appliedSeq, entities })
  })
