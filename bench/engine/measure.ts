/**
 * The timing harness. Each contender runs in its own process (see run.ts), so the call site of
 * `decide` below only ever sees one function and the JIT treats every contender alike.
 */

export interface Plan {
  /** Decisions per timed batch. */
  batchSize: number;
  batches: number;
  /** Untimed calls first, for at least this long. */
  warmupMs: number;
  /** Individually timed calls for the percentiles. */
  latencySamples: number;
}

export interface Measurement {
  /** Median over batches of decisions per second. */
  opsPerSec: number;
  batchOpsPerSec: number[];
  /** Per decision, with the timer's own cost subtracted. */
  p50Us: number;
  p99Us: number;
  /** Median cost of two back-to-back `process.hrtime.bigint()` reads, subtracted from each sample. */
  timerOverheadNs: number;
  /** How the individually timed decisions came out, by `classify`. */
  outcomes: Record<string, number>;
  /** Folds every result in, so no call can be optimised away. */
  checksum: number;
}

interface Result {
  effect: string;
}

const hrtime = process.hrtime.bigint;
/** Calls per chunk of the warm-up and the latency pass: chunks keep the loops in small, often-called functions. */
const CHUNK = 1000;

/**
 * Warm-up, timed batches, then individually timed calls. Every loop lives in a function of its
 * own that the warm-up has already called many times, so the timed passes run optimised code
 * rather than a loop still waiting for on-stack replacement.
 */
export function measureSync<T, R extends Result>(
  inputs: readonly T[],
  decide: (input: T) => R,
  classify: (result: R) => string,
  plan: Plan,
): Measurement {
  const mask = inputMask(inputs);
  const scratch = new Float64Array(CHUNK);
  const outcomes: Record<string, number> = {};
  let checksum = 0;
  let i = 0;
  const warmupEnd = hrtime() + BigInt(plan.warmupMs) * 1_000_000n;
  while (hrtime() < warmupEnd) {
    checksum += runBatch(inputs, mask, decide, i, CHUNK);
    checksum += sampleCalls(inputs, mask, decide, i, scratch, 0, CHUNK, classify, {});
    i += 2 * CHUNK;
  }

  const batchOpsPerSec: number[] = [];
  for (let b = 0; b < plan.batches; b++, i += plan.batchSize) {
    const start = hrtime();
    checksum += runBatch(inputs, mask, decide, i, plan.batchSize);
    batchOpsPerSec.push(plan.batchSize / (Number(hrtime() - start) / 1e9));
  }

  const timerOverheadNs = measureTimerOverhead();
  const samples = new Float64Array(plan.latencySamples);
  for (let s = 0; s < samples.length; s += CHUNK, i += CHUNK) {
    checksum += sampleCalls(inputs, mask, decide, i, samples, s, Math.min(CHUNK, samples.length - s), classify, outcomes);
  }
  return summarise(batchOpsPerSec, samples, timerOverheadNs, outcomes, checksum);
}

/** Results are kept a while, as a caller would: no contender's result can be optimised away unallocated. */
const kept: unknown[] = new Array<unknown>(256).fill(null);

function runBatch<T, R extends Result>(inputs: readonly T[], mask: number, decide: (input: T) => R, from: number, count: number): number {
  let checksum = 0;
  for (let i = from, end = from + count; i < end; i++) {
    const result = decide(inputs[i & mask] as T);
    checksum += result.effect.length;
    kept[i & 255] = result;
  }
  return checksum;
}

function sampleCalls<T, R extends Result>(
  inputs: readonly T[],
  mask: number,
  decide: (input: T) => R,
  from: number,
  samples: Float64Array,
  at: number,
  count: number,
  classify: (result: R) => string,
  outcomes: Record<string, number>,
): number {
  let checksum = 0;
  for (let k = 0; k < count; k++) {
    const input = inputs[(from + k) & mask] as T;
    const start = hrtime();
    const result = decide(input);
    samples[at + k] = Number(hrtime() - start);
    checksum += result.effect.length;
    const outcome = classify(result);
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  }
  return checksum;
}

/** The same passes for an asynchronous decide: each call is awaited before the next starts. */
export async function measureAsync<T, R extends Result>(
  inputs: readonly T[],
  decide: (input: T) => Promise<R>,
  classify: (result: R) => string,
  plan: Plan,
): Promise<Measurement> {
  const mask = inputMask(inputs);
  const scratch = new Float64Array(CHUNK);
  const outcomes: Record<string, number> = {};
  let checksum = 0;
  let i = 0;
  const warmupEnd = hrtime() + BigInt(plan.warmupMs) * 1_000_000n;
  while (hrtime() < warmupEnd) {
    checksum += await runBatchAsync(inputs, mask, decide, i, CHUNK);
    checksum += await sampleCallsAsync(inputs, mask, decide, i, scratch, 0, CHUNK, classify, {});
    i += 2 * CHUNK;
  }

  const batchOpsPerSec: number[] = [];
  for (let b = 0; b < plan.batches; b++, i += plan.batchSize) {
    const start = hrtime();
    checksum += await runBatchAsync(inputs, mask, decide, i, plan.batchSize);
    batchOpsPerSec.push(plan.batchSize / (Number(hrtime() - start) / 1e9));
  }

  const timerOverheadNs = measureTimerOverhead();
  const samples = new Float64Array(plan.latencySamples);
  for (let s = 0; s < samples.length; s += CHUNK, i += CHUNK) {
    const count = Math.min(CHUNK, samples.length - s);
    checksum += await sampleCallsAsync(inputs, mask, decide, i, samples, s, count, classify, outcomes);
  }
  return summarise(batchOpsPerSec, samples, timerOverheadNs, outcomes, checksum);
}

async function runBatchAsync<T, R extends Result>(
  inputs: readonly T[],
  mask: number,
  decide: (input: T) => Promise<R>,
  from: number,
  count: number,
): Promise<number> {
  let checksum = 0;
  for (let i = from, end = from + count; i < end; i++) {
    const result = await decide(inputs[i & mask] as T);
    checksum += result.effect.length;
    kept[i & 255] = result;
  }
  return checksum;
}

async function sampleCallsAsync<T, R extends Result>(
  inputs: readonly T[],
  mask: number,
  decide: (input: T) => Promise<R>,
  from: number,
  samples: Float64Array,
  at: number,
  count: number,
  classify: (result: R) => string,
  outcomes: Record<string, number>,
): Promise<number> {
  let checksum = 0;
  for (let k = 0; k < count; k++) {
    const input = inputs[(from + k) & mask] as T;
    const start = hrtime();
    const result = await decide(input);
    samples[at + k] = Number(hrtime() - start);
    checksum += result.effect.length;
    const outcome = classify(result);
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  }
  return checksum;
}

/** Inputs are cycled with a bit mask, which costs less than a modulo. */
function inputMask(inputs: readonly unknown[]): number {
  const n = inputs.length;
  if (n === 0 || (n & (n - 1)) !== 0) throw new Error(`inputs must be a power of two in number, got ${n}`);
  return n - 1;
}

/** The empty loop: what a sample measures when the timed call costs nothing. */
function measureTimerOverhead(): number {
  const samples = new Float64Array(100_000);
  for (let s = 0; s < samples.length; s++) {
    const start = hrtime();
    samples[s] = Number(hrtime() - start);
  }
  return quantile(samples.sort(), 0.5);
}

function summarise(
  batchOpsPerSec: number[],
  samples: Float64Array,
  timerOverheadNs: number,
  outcomes: Record<string, number>,
  checksum: number,
): Measurement {
  samples.sort();
  const rates = Float64Array.from(batchOpsPerSec).sort();
  return {
    opsPerSec: quantile(rates, 0.5),
    batchOpsPerSec,
    p50Us: Math.max(0, quantile(samples, 0.5) - timerOverheadNs) / 1000,
    p99Us: Math.max(0, quantile(samples, 0.99) - timerOverheadNs) / 1000,
    timerOverheadNs,
    outcomes,
    checksum,
  };
}

/** Nearest-rank quantile of sorted values. */
function quantile(sorted: Float64Array, q: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] as number;
}
