/**
 * Where the upper tail of a count's distribution falls under a false-alarm probability: the
 * anomaly detectors' thresholds. Each answer costs O(σ + 30) steps, whatever the counts: the first
 * versions walked from 0 up to the mean (Poisson) or from n down (binomial), O(λ) and O(n) steps,
 * and a burst of a few thousand calls in a bucket made the baseline's variance large enough that
 * restarting a server on 30,000 recent decisions took 4 minutes of event loop in this loop alone
 * (at production rates, every bucket close would have held the event loop too).
 *
 * Both sum the tail from above: from μ + 12σ + 30, where what lies beyond is below e^-45 by
 * Bernstein's inequality (P(X ≥ μ + t) ≤ exp(−t² / 2(σ² + t/3)), for Poisson and binomial alike),
 * i.e. nothing a false-alarm probability of 1e-12 or more can notice, down to the first count
 * whose tail reaches p. One term is computed with log-factorials, the others by the pmf's ratio
 * to its neighbour.
 */

/** ln(n!) for an integer n ≥ 0: exact sums below 256, Stirling's series above (error < 1e-17 relative). */
export function logFactorial(n: number): number {
  if (n < LOG_FACTORIALS.length) return LOG_FACTORIALS[n] as number;
  const inverse = 1 / n;
  const inverse2 = inverse * inverse;
  return n * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI * n) + inverse * (1 / 12 - inverse2 * (1 / 360 - inverse2 / 1260));
}

const LOG_FACTORIALS: number[] = [0];
for (let n = 1; n < 256; n++) LOG_FACTORIALS.push((LOG_FACTORIALS[n - 1] as number) + Math.log(n));

/** The smallest k with P(X >= k) < p for X ~ Poisson(lambda). */
export function poissonTailStart(lambda: number, p: number): number {
  const top = Math.ceil(lambda + 12 * Math.sqrt(lambda) + 30);
  // ln pmf(top), then pmf(k − 1) = pmf(k) · k / λ going down (in logs: no term underflows to 0 for good).
  const logLambda = Math.log(lambda);
  let logTerm = -lambda + top * logLambda - logFactorial(top);
  let tail = 0;
  for (let k = top; k >= 0; k--) {
    tail += Math.exp(logTerm);
    if (tail >= p) return k + 1;
    logTerm += Math.log(k) - logLambda;
  }
  return 0;
}

/** The smallest k with P(X >= k) < p for X ~ Binomial(n, q) (n + 1 when there is none). */
export function binomialTailStart(n: number, q: number, p: number): number {
  if (q <= 0) return 1;
  if (q >= 1) return n + 1;
  const top = Math.min(n, Math.ceil(n * q + 12 * Math.sqrt(n * q * (1 - q)) + 30));
  // ln pmf(top), then pmf(k − 1) = pmf(k) · k / (n − k + 1) · (1 − q) / q going down.
  const logOdds = Math.log(1 - q) - Math.log(q);
  let logTerm = logFactorial(n) - logFactorial(top) - logFactorial(n - top) + top * Math.log(q) + (n - top) * Math.log(1 - q);
  let tail = 0;
  for (let k = top; k >= 0; k--) {
    tail += Math.exp(logTerm);
    if (tail >= p) return k + 1;
    logTerm += Math.log(k) - Math.log(n - k + 1) + logOdds;
  }
  return 0;
}
