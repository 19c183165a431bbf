/**
 * A consumer on another machine: reads every WAL shipped to the stream SIGNALS, one subject per
 * WAL, with the same `ReplayedEvent`s (and sequence numbers) as `wal.read` would give.
 *
 *   node examples/jetstream/readAll.ts            # read each WAL's copy to its current end
 *   node examples/jetstream/readAll.ts --follow   # then keep following every WAL (Ctrl-C stops)
 *
 * Order: within one WAL, exactly the WAL's order, each event once; across WALs there is no
 * global order — the merged stream interleaves the WALs as their messages arrive. NATS_URL
 * selects the server (default 127.0.0.1:4222).
 */
import { NodeRuntime } from "@effect/platform-node"
import { jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { Effect, Stream } from "effect"
import { JetStreamSource } from "../../src/jetstream/index.ts"

const servers = process.env.NATS_URL ?? "127.0.0.1:4222"
const follow = process.argv.includes("--follow")

/** The subjects of the stream under `signals.`: one per WAL that has shipped anything. */
const walSubjects = Effect.promise(async () => {
  const connection = await connect({ servers })
  try {
    const info = await (await jetstreamManager(connection)).streams.info("SIGNALS", {
      subjects_filter: "signals.>"
    })
    return Object.keys(info.state.subjects ?? {}).sort()
  } finally {
    await connection.close()
  }
})

const program = Effect.gen(function* () {
  const subjects = yield* walSubjects
  console.log(`${subjects.length} WAL(s) in SIGNALS`)
  const perWal = new Map<string, { count: number; firstSeq: bigint; lastSeq: bigint }>()
  const read = follow ? JetStreamSource.follow : JetStreamSource.read
  const everyWal = subjects.map((subject) =>
    read({ servers, stream: "SIGNALS", subject, fromSeq: 1n }).pipe(
      Stream.map((event) => ({ subject, event }))
    )
  )
  yield* Stream.mergeAll(everyWal, { concurrency: "unbounded" }).pipe(
    Stream.runForEach(({ subject, event }) =>
      Effect.sync(() => {
        const seen = perWal.get(subject)
        // Each WAL's events arrive in its own order, consecutive: a gap would have failed the stream.
        if (seen !== undefined && event.seq !== seen.lastSeq + 1n)
          throw new Error(`out of order on ${subject}`)
        perWal.set(subject, {
          count: (seen?.count ?? 0) + 1,
          firstSeq: seen?.firstSeq ?? event.seq,
          lastSeq: event.seq
        })
        if (follow) console.log(`${subject} seq ${event.seq} entity ${event.entityId}`)
      })
    )
  )
  for (const [subject, { count, firstSeq, lastSeq }] of perWal) {
    console.log(`${subject}: ${count} events, seq ${firstSeq}..${lastSeq}`)
  }
}).pipe(Effect.catchTags({ JetStreamError: (e) => Effect.logError(`JetStream: ${e.reason}: ${e.message}`) }))

NodeRuntime.runMain(program)
