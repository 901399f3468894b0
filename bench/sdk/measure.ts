/**
 * The timing harness: a warm-up, timed batches for throughput, then individually timed calls for
 * the percentiles. Every call is awaited before the next starts, as an agent's tool calls are.
 */

export interface Plan {
  warmupMs: number;
  batches: number;
  batchSize: number;
  latencySamples: number;
}

export interface Measurement {
  /** Median over batches. */
  callsPerSec: number;
  /** Per call, with the timer's own cost subtracted. */
  p50Us: number;
  p99Us: number;
}

const hrtime = process.hrtime.bigint;

/** Results are kept a while, as a caller would: none can be optimised away unallocated. */
const kept: unknown[] = new Array<unknown>(256).fill(null);

export async function measure(call: (i: number) => Promise<unknown>, plan: Plan): Promise<Measurement> {
  let i = 0;
  const warmupEnd = hrtime() + BigInt(plan.warmupMs) * 1_000_000n;
  while (hrtime() < warmupEnd) kept[i & 255] = await call(i++);

  const rates: number[] = [];
  for (let b = 0; b < plan.batches; b++) {
    const start = hrtime();
    for (let end = i + plan.batchSize; i < end; i++) kept[i & 255] = await call(i);
    rates.push(plan.batchSize / (Number(hrtime() - start) / 1e9));
  }

  const timer = timerOverheadNs();
  const samples = new Float64Array(plan.latencySamples);
  for (let s = 0; s < samples.length; s++, i++) {
    const start = hrtime();
    kept[i & 255] = await call(i);
    samples[s] = Number(hrtime() - start) - timer;
  }
  samples.sort();
  return {
    callsPerSec: median(Float64Array.from(rates).sort()),
    p50Us: Math.max(0, quantile(samples, 0.5)) / 1000,
    p99Us: Math.max(0, quantile(samples, 0.99)) / 1000,
  };
}

/** Median cost of two back-to-back timer reads, subtracted from every sample. */
function timerOverheadNs(): number {
  const samples = new Float64Array(100_000);
  for (let s = 0; s < samples.length; s++) {
    const start = hrtime();
    samples[s] = Number(hrtime() - start);
  }
  return quantile(samples.sort(), 0.5);
}

export function median(sorted: ArrayLike<number>): number {
  return quantile(sorted, 0.5);
}

/** Nearest-rank quantile of sorted values. */
function quantile(sorted: ArrayLike<number>, q: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] as number;
}
