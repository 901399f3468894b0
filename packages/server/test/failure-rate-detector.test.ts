import { describe, expect, it } from 'vitest';
import { binomialTailStart, FailureRateDetector, type OutcomeCount } from '../src/services/failure-rate-detector.js';
import { seededRandom as random } from './support/random.js';

const BUCKET = 5 * 60_000;
const T0 = Date.parse('2026-11-20T00:00:00Z');


/** `n` calls, each failing with probability `rate`, as outcome counts. */
function outcomes(agent: string, tool: string, n: number, rate: number, next: () => number): OutcomeCount[] {
  let failed = 0;
  for (let i = 0; i < n; i++) if (next() < rate) failed++;
  return [
    { agent, tool, status: 'succeeded', count: n - failed },
    { agent, tool, status: 'failed', count: failed },
  ];
}

/** A support bot's usual outcomes: many refunds (3 % fail), a few ticket calls (10 % fail), a rare flaky read (40 %). */
function steady(next: () => number): OutcomeCount[] {
  return [
    ...outcomes('support-bot-1', 'issue_refund', 20 + Math.floor(next() * 20), 0.03, next),
    ...outcomes('support-bot-1', 'create_ticket', Math.floor(next() * 6), 0.1, next),
    ...outcomes('support-bot-1', 'get_account', Math.floor(next() * 3), 0.4, next),
    ...outcomes('finance-bot-1', 'make_payment', 10 + Math.floor(next() * 10), 0.15, next),
  ];
}

function warmed(buckets: number, seed = 3) {
  const detector = new FailureRateDetector();
  const rng = random(seed);
  const flags = [];
  for (let i = 0; i < buckets; i++) flags.push(...detector.observe(T0 + i * BUCKET, steady(rng)));
  return { detector, flags, next: T0 + buckets * BUCKET, rng };
}

describe('failure-rate anomalies per tool', () => {
  it.each([1, 2, 3, 4, 5])('flags nothing in three days of steady outcomes with ordinary failures (seed %i)', (seed) => {
    expect(warmed(3 * 288, seed).flags.map((f) => f.message)).toEqual([]);
  });

  it('flags a burst of failures on one tool, exactly once, against its own baseline', () => {
    const { detector, next, rng } = warmed(100);
    const burst = [...steady(rng).filter((c) => c.tool !== 'issue_refund'), { agent: 'support-bot-1', tool: 'issue_refund', status: 'succeeded', count: 8 }, { agent: 'support-bot-1', tool: 'issue_refund', status: 'failed', count: 22 }];
    const flags = detector.observe(next, burst);
    expect(flags).toHaveLength(1);
    expect(flags[0]).toMatchObject({ code: 'failure_rate', agent: 'support-bot-1', tool: 'issue_refund', metric: 'failures', count: 22, reported: 30, bucketStart: next });
    expect(flags[0]?.baseline).toBeGreaterThan(0.01);
    expect(flags[0]?.baseline).toBeLessThan(0.08);
    expect(flags[0]?.message).toBe(`support-bot-1 on issue_refund: 22 of 30 reported calls failed (73 %) against ${Math.round((flags[0]?.baseline ?? 0) * 100)} % before`);
  });

  it('does not flag a low-volume tool: 1 failure of 2 reports, 4 of 4, or 9 of 9 calls below the minimum sample', () => {
    const detector = new FailureRateDetector();
    const one = (tool: string, succeeded: number, failed: number): OutcomeCount[] => [
      { agent: 'a', tool, status: 'succeeded', count: succeeded },
      { agent: 'a', tool, status: 'failed', count: failed },
    ];
    expect(detector.observe(T0, one('rare', 1, 1))).toEqual([]);
    expect(detector.observe(T0 + BUCKET, one('rarer', 0, 4))).toEqual([]);
    expect(detector.observe(T0 + 2 * BUCKET, one('quiet', 0, 9))).toEqual([]);
    // The same share on enough calls is an alert (the prior baseline of a tool never reported: 5 %).
    expect(detector.observe(T0 + 3 * BUCKET, one('busy', 0, 10)).map((f) => f.tool)).toEqual(['busy']);
  });

  it('judges a tool that usually fails against its own rate, and lets a lasting outage become normal', () => {
    const detector = new FailureRateDetector();
    const rng = random(9);
    const flags = [];
    // A tool failing half the time from its first report: flagged while the baseline learns it, then not.
    for (let i = 0; i < 200; i++) flags.push(...detector.observe(T0 + i * BUCKET, outcomes('a', 'flaky', 30, 0.5, rng)));
    expect(flags.length).toBeGreaterThan(0);
    expect(flags.every((f) => f.bucketStart < T0 + 40 * BUCKET)).toBe(true);
  });

  it('replays history without flagging (warm = false) but keeps its baseline', () => {
    const bucket: OutcomeCount[] = [
      { agent: 'a', tool: 't', status: 'succeeded', count: 10 },
      { agent: 'a', tool: 't', status: 'failed', count: 20 },
    ];
    expect(new FailureRateDetector().observe(T0, bucket)).toHaveLength(1);
    const replayed = new FailureRateDetector();
    for (let i = 0; i < 5; i++) expect(replayed.observe(T0 + i * BUCKET, bucket, false)).toEqual([]);
    expect(replayed.observe(T0 + 5 * BUCKET, bucket)).toEqual([]);
  });

  it('binomialTailStart is the smallest count whose upper tail is under p', () => {
    expect(binomialTailStart(10, 0.5, 0.001)).toBe(10); // P(X >= 10) = 1/1024 < 0.001, P(X >= 9) = 11/1024
    expect(binomialTailStart(20, 0.05, 1e-6)).toBe(9);
    expect(binomialTailStart(5, 0, 1e-6)).toBe(1);
  });
});
