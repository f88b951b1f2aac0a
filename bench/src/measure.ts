/**
 * The arithmetic every benchmark shares: wall-clock time comparable across processes, rates,
 * percentiles and peak RSS.
 */

/** Wall-clock milliseconds with sub-millisecond precision, comparable between processes. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** Whole events per second. */
export function perSecond(count: number, elapsedMs: number): number {
  return Math.round((count * 1000) / elapsedMs);
}

/** Times `work` and returns events per second for `count` events. */
export async function timeRate(count: number, work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return perSecond(count, performance.now() - started);
}

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Nearest-rank percentiles of latencies in milliseconds. */
export function summariseLatencies(latencies: readonly number[]): LatencySummary {
  if (latencies.length === 0) return { count: 0, p50Ms: Number.NaN, p99Ms: Number.NaN, maxMs: Number.NaN };
  const sorted = Float64Array.from(latencies).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { count: sorted.length, p50Ms: round(at(50)), p99Ms: round(at(99)), maxMs: round(sorted[sorted.length - 1]!) };
}

/** Samples this process's RSS every 20 ms; `peakMiB()` reads the highest value seen. */
export function sampleRss() {
  let peak = process.memoryUsage.rss();
  const baseline = peak;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  timer.unref();
  return {
    peakMiB: () => round(Math.max(peak, process.memoryUsage.rss()) / 2 ** 20, 1),
    growthMiB: () => round((Math.max(peak, process.memoryUsage.rss()) - baseline) / 2 ** 20, 1),
    stop: () => clearInterval(timer),
  };
}
