/**
 * Measures the share of wall time spent in garbage collection, from V8's GC performance entries.
 */
import { PerformanceObserver } from "node:perf_hooks"

export interface GcMeter {
  /** Stops observing; returns GC time ÷ wall time since start. */
  readonly stop: () => number
}

export const startGcMeter = (): GcMeter => {
  let gcMillis = 0
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMillis += entry.duration
  })
  observer.observe({ entryTypes: ["gc"] })
  const start = performance.now()
  return {
    stop: () => {
      const records = observer.takeRecords()
      for (const entry of records) gcMillis += entry.duration
      observer.disconnect()
      return gcMillis / (performance.now() - start)
    }
  }
}
