import { describe, expect, it } from 'vitest';
import { AnomalyDetector, type DecisionCount } from '../src/services/anomaly-detector.js';
import { seededRandom as random } from './support/random.js';

const BUCKET = 5 * 60_000;
const T0 = Date.parse('2026-11-20T00:00:00Z');


/** A Poisson-distributed count with the given mean (Knuth). */
function poisson(mean: number, next: () => number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= next();
  } while (p > limit);
  return k - 1;
}

/** One bucket of a support bot's and a finance bot's usual traffic, with Poisson noise. */
function steadyBucket(next: () => number): DecisionCount[] {
  return [
    { agent: 'support-bot-1', tool: 'get_account', effect: 'allow', rule: 'read-account', count: poisson(12, next) },
    { agent: 'support-bot-1', tool: 'issue_refund', effect: 'allow', rule: 'refund-small', count: poisson(3, next) },
    { agent: 'support-bot-1', tool: 'issue_refund', effect: 'require_approval', rule: 'refund-medium', count: poisson(0.5, next) },
    { agent: 'finance-bot-1', tool: 'make_payment', effect: 'allow', rule: 'payment-small', count: poisson(6, next) },
    { agent: 'finance-bot-1', tool: 'make_payment', effect: 'block', rule: 'payment-large', count: poisson(0.3, next) },
    { agent: 'finance-bot-1', tool: 'make_payment', effect: 'block', rule: 'transaction-rate', count: poisson(0.1, next) },
  ];
}

/** A detector fed `buckets` of steady traffic; returns it, the flags it raised, and the next bucket start. */
function warmed(buckets: number, seed = 7): { detector: AnomalyDetector; flags: ReturnType<AnomalyDetector['observe']>; next: number; rng: () => number } {
  const detector = new AnomalyDetector({}, (rule) => rule === 'transaction-rate');
  const rng = random(seed);
  const flags = [];
  for (let i = 0; i < buckets; i++) flags.push(...detector.observe(T0 + i * BUCKET, steadyBucket(rng)));
  return { detector, flags, next: T0 + buckets * BUCKET, rng };
}

describe('rate anomalies against each agent’s own baseline', () => {
  it.each([1, 2, 3, 4, 5])('flags nothing in three days of steady, noisy traffic (seed %i)', (seed) => {
    const { flags } = warmed(3 * 288, seed);
    expect(flags.map((f) => `${f.message} thr ${f.threshold}`)).toEqual([]);
  });

  it('flags a support bot suddenly exporting customers as a new tool, once', () => {
    const { detector, next, rng } = warmed(100);
    const burst = [...steadyBucket(rng), { agent: 'support-bot-1', tool: 'export_customers', effect: 'block', rule: 'export-customers', count: 3 }];
    const flags = detector.observe(next, burst);
    expect(flags).toContainEqual(expect.objectContaining({ code: 'new_tool', agent: 'support-bot-1', tool: 'export_customers', count: 3 }));
    const again = detector.observe(next + BUCKET, [...steadyBucket(rng), { agent: 'support-bot-1', tool: 'export_customers', effect: 'block', rule: 'export-customers', count: 1 }]);
    expect(again.filter((f) => f.code === 'new_tool')).toEqual([]);
  });

  it('flags a finance bot whose blocked calls jump while its call volume stays usual', () => {
    const { detector, next, rng } = warmed(100);
    const bucket = steadyBucket(rng).map((row) => (row.rule === 'payment-small' ? { ...row, count: 0 } : row));
    bucket.push({ agent: 'finance-bot-1', tool: 'make_payment', effect: 'block', rule: 'payment-large', count: 6 });
    const flags = detector.observe(next, bucket);
    expect(flags.map((f) => `${f.code}/${f.agent}/${f.tool}/${f.metric}`)).toEqual(['rate_spike/finance-bot-1/make_payment/blocks']);
    expect(flags[0]?.baseline).toBeLessThan(0.5);
  });

  it('flags a call spike on one tool (reported for the tool, not again for the agent)', () => {
    const { detector, next, rng } = warmed(100);
    const bucket = steadyBucket(rng).map((row) => (row.rule === 'read-account' ? { ...row, count: 90 } : row));
    const flags = detector.observe(next, bucket);
    expect(flags.map((f) => `${f.code}/${f.agent}/${f.tool}/${f.metric}`)).toEqual(['rate_spike/support-bot-1/get_account/calls']);
    expect(flags[0]).toMatchObject({ count: 90 });
  });

  it('flags limit hits as their own metric', () => {
    const { detector, next, rng } = warmed(100);
    const flags = detector.observe(next, [...steadyBucket(rng), { agent: 'finance-bot-1', tool: 'make_payment', effect: 'block', rule: 'transaction-rate', count: 8 }]);
    expect(flags.map((f) => f.metric).sort()).toEqual(['blocks', 'limit_hits']);
  });

  it('keeps flagging a sustained spike without it becoming the baseline in one bucket, and stays quiet before warm-up', () => {
    const { detector, next, rng } = warmed(100);
    const spike = (): DecisionCount[] => steadyBucket(rng).map((row) => (row.rule === 'read-account' ? { ...row, count: 80 } : row));
    expect(detector.observe(next, spike())).toHaveLength(1);
    const second = detector.observe(next + BUCKET, spike());
    expect(second.map((f) => `${f.count}>=${f.threshold}`)).toHaveLength(1);

    const fresh = new AnomalyDetector();
    const flags = [];
    for (let i = 0; i < 11; i++) flags.push(...fresh.observe(T0 + i * BUCKET, [{ agent: 'a', tool: 't', effect: 'allow', rule: 'r', count: i === 10 ? 500 : 1 }]));
    expect(flags).toEqual([]);
  });
});

describe('poissonTailStart', () => {
  it.each([
    // [lambda, p, k]: P(X >= k) < p <= P(X >= k - 1), checked against the closed form below.
    [0.05, 1e-6, 4],
    [2.5, 1e-6, 14],
    [12, 1e-6, 33],
  ])('Poisson(%f) tail below %f starts at %i', async (lambda, p, k) => {
    const { poissonTailStart } = await import('../src/services/anomaly-detector.js');
    expect(poissonTailStart(lambda, p)).toBe(k);
    const survival = (from: number): number => {
      let below = 0;
      let term = Math.exp(-lambda);
      for (let i = 0; i < from; i++) {
        below += term;
        term *= lambda / (i + 1);
      }
      return 1 - below;
    };
    expect(survival(k)).toBeLessThan(p);
    expect(survival(k - 1)).toBeGreaterThanOrEqual(p);
  });
});
