// A CommonJS consumer: `require("tidal-wal")` loads (nothing in the package's ES module graph
// awaits at top level), and the required API opens a WAL, appends, closes and reopens it.
const { NodeServices } = require("@effect/platform-node")
const { Effect } = require("effect")
const wal = require("tidal-wal")
const { version } = require("tidal-wal/package.json")

const expected = ["WalHandle", "WalReader", "SignalEventFromJson", "ReplayedEventFromJson", "decodeWalConfig"]
const missing = expected.filter((name) => !(name in wal))
if (missing.length > 0) {
  console.error(`require("tidal-wal") lacks ${missing.join(", ")}`)
  process.exit(1)
}

const dir = require("node:path").join(process.cwd(), "wal-require")
const event = {
  entityId: 1n,
  signalType: wal.SignalType.view,
  weight: 1,
  timestamp: BigInt(Date.now()) * 1_000_000n
}
const program = Effect.gen(function* () {
  const appended = yield* Effect.scoped(
    Effect.flatMap(wal.WalHandle.open({ dir, groupCommit: "eager" }), ([handle]) => handle.append(event))
  )
  const replayed = yield* Effect.scoped(
    Effect.map(wal.WalHandle.open({ dir }), ([, events]) => events.length)
  )
  return { appended, replayed }
})
Effect.runPromise(program.pipe(Effect.provide(NodeServices.layer))).then(
  ({ appended, replayed }) => {
    if (appended < 1n || replayed < 1) throw new Error(`appended ${appended}, replayed ${replayed}`)
    console.log(`require("tidal-wal") ${version}: appended seq ${appended}, ${replayed} replayed`)
  },
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
