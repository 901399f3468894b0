import { describe, expect, it } from 'vitest';
import { binomialTailStart, logFactorial, poissonTailStart } from '../src/services/tail-bounds.js';

/** The anomaly detectors' thresholds (services/tail-bounds.ts): exact, and O(σ) steps whatever the counts. */

/** The first versions, O(λ) and O(n) steps: the reference where their arithmetic is exact enough. */
function walkUpPoisson(lambda: number, p: number): number {
  let logTerm = -lambda;
  let below = 0;
  for (let k = 0; ; k++) {
    if (k > 0) logTerm += Math.log(lambda) - Math.log(k);
    if (1 - below < p) return k;
    below += Math.exp(logTerm);
  }
}
function walkDownBinomial(n: number, q: number, p: number): number {
  let logChoose = 0;
  let tail = 0;
  for (let k = n; k >= 0; k--) {
    if (k < n) logChoose += Math.log(k + 1) - Math.log(n - k);
    tail += Math.exp(logChoose + k * Math.log(q) + (n - k) * Math.log(1 - q));
    if (tail >= p) return k + 1;
  }
  return 0;
}

/** mulberry32: the same cases every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('tail bounds', () => {
  it('log-factorials: exact sums below 256 and Stirling above agree at the seam and with the product', () => {
    expect(logFactorial(0)).toBe(0);
    expect(logFactorial(10)).toBeCloseTo(Math.log(3628800), 12);
    let sum = 0;
    for (let n = 1; n <= 300; n++) sum += Math.log(n);
    expect(Math.abs(logFactorial(300) - sum) / sum).toBeLessThan(1e-14);
  });

  it('agrees with the step-by-step walks on 4,000 random Poisson and binomial cases', () => {
    const next = random(7);
    for (let i = 0; i < 2000; i++) {
      const lambda = 0.05 + Math.exp(next() * Math.log(2000));
      const p = [1e-2, 1e-3, 1e-4][i % 3] as number;
      expect(poissonTailStart(lambda, p), `λ=${lambda} p=${p}`).toBe(walkUpPoisson(lambda, p));
    }
    for (let i = 0; i < 2000; i++) {
      const n = Math.floor(next() * 2000);
      const q = next() < 0.2 ? next() * 1e-3 : next();
      const p = [1e-2, 1e-4, 1e-6][i % 3] as number;
      expect(binomialTailStart(n, q, p), `n=${n} q=${q} p=${p}`).toBe(walkDownBinomial(n, q, p));
    }
  });

  it('is exact where the walk up from 0 lost the tail to rounding (references: mpmath, 50 digits)', () => {
    // P(X >= 3096) = 1.00015e-9 for λ = 2773.84…: the answer is 3097 (the walk said 3096);
    // P(X >= 3134) = 9.997e-10 for λ = 2809.80…: 3134 (the walk said 3135).
    expect(poissonTailStart(2773.842511401324, 1e-9)).toBe(3097);
    expect(poissonTailStart(2809.7974207310767, 1e-9)).toBe(3134);
    expect(poissonTailStart(2532.876934410948, 1e-9)).toBe(2842);
  });

  it('answers huge counts (a burst, a busy day) about z·σ above the mean, and tiny rates without underflow', () => {
    // p = 1e-6: z ≈ 4.75 (normal); the Poisson and binomial tails are a little heavier.
    const lambda = 1e9;
    const k = poissonTailStart(lambda, 1e-6);
    expect((k - lambda) / Math.sqrt(lambda)).toBeGreaterThan(4.6);
    expect((k - lambda) / Math.sqrt(lambda)).toBeLessThan(5.0);
    const n = 1e8;
    const b = binomialTailStart(n, 0.01, 1e-6);
    const sigma = Math.sqrt(n * 0.01 * 0.99);
    expect((b - n * 0.01) / sigma).toBeGreaterThan(4.6);
    expect((b - n * 0.01) / sigma).toBeLessThan(5.0);
    expect(binomialTailStart(1_000_000, 1e-20, 1e-6)).toBe(1);
    expect(poissonTailStart(0.05, 1e-6)).toBe(walkUpPoisson(0.05, 1e-6));
    expect(binomialTailStart(5, 0, 1e-6)).toBe(1);
    expect(binomialTailStart(5, 1, 1e-6)).toBe(6);
  });
});
