import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile, loadBundle, MemoryCounterStore, type DecisionErrorCode } from '../src/index.js';

describe('MemoryCounterStore matches a brute-force rolling window', () => {
  it('for random interleavings of times (including steps back within a window), amounts and keys', () => {
    const windowMs = 1000;
    const op = fc.record({
      dt: fc.integer({ min: -400, max: 700 }),
      key: fc.constantFrom('a', 'b'),
      amount: fc.integer({ min: 0, max: 5 }),
      blocking: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), fc.integer({ min: 1, max: 12 }), (ops, max) => {
        const store = new MemoryCounterStore();
        const log: { key: string; time: number; amount: number }[] = [];
        let time = 10_000;
        let newest = time;
        for (const { dt, key, amount, blocking } of ops) {
          // Keep backward steps within one window of the newest time: the documented exact range.
          time = Math.max(time + dt, newest - windowMs + 1);
          newest = Math.max(newest, time);
          const used = log.filter((e) => e.key === key && e.time > time - windowMs).reduce((sum, e) => sum + e.amount, 0);
          const exceeded = used + amount > max;
          const outcome = store.checkAndConsumeSync([{ key, windowMs, max, amount, blocking }], time);
          expect(outcome.results[0]).toEqual({ used, exceeded });
          expect(outcome.consumed).toBe(!(exceeded && blocking));
          if (outcome.consumed) log.push({ key, time, amount });
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('fuzzed refund arguments', () => {
  const engine = compile(loadBundle('examples/policies'));
  const codes: DecisionErrorCode[] = ['invalid_arguments', 'request_too_large', 'invalid_request'];

  /** An independent statement of the issue_refund schema. */
  const isValid = (args: Record<string, unknown>): boolean => {
    const keys = Object.keys(args).sort();
    if (keys.join(',') !== 'account_id,amount,currency') return false;
    const { account_id, amount, currency } = args;
    return (
      typeof account_id === 'string' &&
      account_id.length >= 1 &&
      account_id.length <= 128 &&
      typeof amount === 'number' &&
      Number.isFinite(amount) &&
      amount >= 0 &&
      (currency === 'USD' || currency === 'EUR' || currency === 'GBP')
    );
  };

  const anyValue = fc.oneof(
    fc.double(),
    fc.integer(),
    fc.string(),
    fc.constantFrom('5e2', '50', '', 'USD', 'usd', ' USD', '__proto__', 'constructor'),
    fc.constant(null),
    fc.boolean(),
    fc.array(fc.integer(), { maxLength: 3 }),
    fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }),
  );
  const argsArbitrary = fc.oneof(
    fc.record({
      account_id: fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), anyValue),
      amount: fc.oneof(fc.double({ min: -1e9, max: 1e9, noNaN: false }), anyValue),
      currency: fc.oneof(fc.constantFrom('USD', 'EUR', 'GBP'), anyValue),
    }),
    fc.dictionary(fc.constantFrom('account_id', 'amount', 'currency', '__proto__', 'constructor', 'toString', 'extra'), anyValue),
  );

  it('never throws, never allows what the schema forbids, and always explains a rejection with a stable code', () => {
    fc.assert(
      fc.property(argsArbitrary, (args) => {
        const decision = engine.decideSync({ agent: 'fuzz', role: 'support', tool: 'issue_refund', args, at: '2026-11-23T00:00:00Z' });
        if (!isValid(args)) {
          expect(decision.effect).toBe('block');
          expect(codes).toContain(decision.error?.code);
          return;
        }
        const amount = args.amount as number;
        const expected = amount > 500 ? 'block' : amount > 50 ? 'require_approval' : 'allow';
        // The per-account budget may make an otherwise allowed call stricter, never laxer.
        const rank = { allow: 0, require_approval: 1, block: 2 } as const;
        expect(rank[decision.effect]).toBeGreaterThanOrEqual(rank[expected]);
        expect(decision.error).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });
});

describe('MemoryCounterStore memory', () => {
  it('forgets keys once all their entries have aged out', () => {
    const store = new MemoryCounterStore();
    const windowMs = 1000;
    for (let i = 0; i < 5000; i++) store.checkAndConsumeSync([{ key: `k${i}`, windowMs, max: 10, amount: 1, blocking: true }], i);
    // Every key is touched once; by the sweep after 4,096 consumptions all but the last two windows' keys are idle.
    expect(store.keyCount).toBeLessThan(5000);
    expect(store.keyCount).toBeGreaterThanOrEqual(2 * windowMs);
  });

  it('sweeps continuously: the keys held stay close to the live ones, with no periodic pile-up', () => {
    const store = new MemoryCounterStore();
    const windowMs = 1000;
    let most = 0;
    for (let i = 0; i < 50_000; i++) {
      store.checkAndConsumeSync([{ key: `k${i}`, windowMs, max: 10, amount: 1, blocking: true }], i);
      most = Math.max(most, store.keyCount);
    }
    // 2,000 keys are live (entries are kept for two windows). Walking 4 keys per consumption (256
    // every 64), one pass over n keys takes n / 4 consumptions, so ~2,000 × 4/3 are held plus a
    // step's lag; a sweep of all keys every 4,096 consumptions let 6,000 pile up.
    expect(most).toBeLessThan(2 * windowMs * 1.6);
    expect(store.keyCount).toBeGreaterThanOrEqual(2 * windowMs);
  });
});
