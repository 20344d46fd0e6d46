// A small closed-loop load generator: `concurrency` workers each send the next request as soon as
// the previous one answered, for `durationMs`. Reports throughput and latency percentiles.
import { performance } from "node:perf_hooks";

export interface LoadResult {
  requests: number;
  errors: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export async function runLoad(
  send: (i: number) => Promise<boolean>,
  options: { concurrency: number; durationMs: number; warmupMs?: number; onMeasureStart?: () => void },
): Promise<LoadResult> {
  let counter = 0;
  const phase = async (durationMs: number, record: boolean) => {
    const latencies: number[] = [];
    let errors = 0;
    const deadline = performance.now() + durationMs;
    const worker = async () => {
      while (performance.now() < deadline) {
        const started = performance.now();
        const ok = await send(counter++).catch(() => false);
        if (record) {
          latencies.push(performance.now() - started);
          if (!ok) errors++;
        }
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    return { latencies, errors, elapsed: performance.now() - started };
  };
  if (options.warmupMs) await phase(options.warmupMs, false);
  options.onMeasureStart?.();
  const { latencies, errors, elapsed } = await phase(options.durationMs, true);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    requests: latencies.length,
    errors,
    perSecond: (latencies.length / elapsed) * 1000,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  };
}

export function formatLoad(name: string, r: LoadResult): string {
  return `${name.padEnd(34)} ${r.perSecond.toFixed(0).padStart(7)} req/s   p50 ${r.p50Ms.toFixed(2).padStart(7)} ms   p99 ${r.p99Ms.toFixed(2).padStart(7)} ms   errors ${r.errors}`;
}
