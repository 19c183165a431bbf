/**
 * What one thread-pool round trip costs the JS thread: `npx node bench/threadHop.ts [DIR]`.
 *
 * Every batch the WAL writes takes two round trips through libuv's thread pool (`fs.write`, then
 * `fs.fsync`): submitting wakes a pool thread, and the completion comes back through the event
 * loop. This times plain `fs.write` calls of one 100-event batch (2164 bytes), `depth` of them in
 * flight, with no fsync (so the disk is not what is measured): the JS thread's CPU per write
 * (`process.threadCpuUsage`), and the wall time spent inside the submitting call. On a 2-core VM
 * the woken pool thread competes with the JS thread for a core; that is part of the price.
 */
import { openSync, rmSync, write } from "node:fs"
import { join } from "node:path"
import { batchSizeBytes } from "../src/internal/format/batchCodec.ts"

const dir = process.argv[2] ?? process.cwd()
const WRITES = 20_000
const batch = new Uint8Array(batchSizeBytes(100))

const measure = (depth: number): Promise<string> =>
  new Promise((resolve, reject) => {
    const file = join(dir, `thread-hop-${process.pid}.bin`)
    const fd = openSync(file, "w")
    let issued = 0
    let done = 0
    let insideSubmitMillis = 0
    const startMillis = performance.now()
    const cpuBefore = process.threadCpuUsage()
    const finish = () => {
      const cpu = process.threadCpuUsage(cpuBefore)
      const wallMillis = performance.now() - startMillis
      rmSync(file)
      resolve(
        `${depth} in flight: ${((wallMillis * 1000) / WRITES).toFixed(1)} µs wall a write, ` +
          `JS thread ${((cpu.user + cpu.system) / WRITES).toFixed(1)} µs CPU a write, ` +
          `${((insideSubmitMillis * 1000) / WRITES).toFixed(1)} µs wall inside the submitting call`
      )
    }
    const pump = (): void => {
      while (issued < WRITES && issued - done < depth) {
        issued++
        const before = performance.now()
        write(fd, batch, 0, batch.length, null, (error) => {
          if (error !== null) return reject(error)
          done++
          if (done === WRITES) finish()
          else pump()
        })
        insideSubmitMillis += performance.now() - before
      }
    }
    pump()
  })

for (const depth of [1, 8]) console.log(await measure(depth))
