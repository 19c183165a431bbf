/**
 * What a measured interval cost the process: wall time, CPU of the whole process (user + system,
 * the libuv threadpool's write and fsync calls included), CPU of the main JS thread alone (the one
 * the "single JS thread is the bottleneck" is about), and the share of wall time in GC.
 */
import { type GcMeter, startGcMeter } from "./gc.ts"

export interface Usage {
  readonly wallMillis: number
  readonly processCpuMicros: number
  readonly threadCpuMicros: number
  readonly gcShare: number
}

export interface UsageMeter {
  readonly stop: () => Usage
}

const cpuMicros = (usage: NodeJS.CpuUsage): number => usage.user + usage.system

export const startUsageMeter = (): UsageMeter => {
  const gc: GcMeter = startGcMeter()
  const startMillis = performance.now()
  const process0 = process.cpuUsage()
  const thread0 = process.threadCpuUsage()
  return {
    stop: () => {
      const processCpuMicros = cpuMicros(process.cpuUsage(process0))
      const threadCpuMicros = cpuMicros(process.threadCpuUsage(thread0))
      const wallMillis = performance.now() - startMillis
      return { wallMillis, processCpuMicros, threadCpuMicros, gcShare: gc.stop() }
    }
  }
}
