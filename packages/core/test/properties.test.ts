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

describe('MemoryCounterStore matches a brute-force rolling window with releases, many keys and sweeps', () => {
  it('for keys that hold one entry, gain more, are taken back (once per id) and are forgotten', () => {
    const windowMs = 1000;
    const op = fc.oneof(
      fc.record({ kind: fc.constant('consume' as const), dt: fc.integer({ min: -300, max: 900 }), key: fc.integer({ min: 0, max: 7 }), amount: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
      // A run of fresh keys: past 4,096 keys held the sweep starts forgetting idle ones.
      fc.record({ kind: fc.constant('crowd' as const), count: fc.integer({ min: 100, max: 3000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: 1, max: 12 }), (ops, max) => {
        const store = new MemoryCounterStore();
        const log: { key: string; time: number; amount: number }[] = [];
        const consumed: { id: string; key: string; atMs: number; amount: number }[] = [];
        const released = new Set<string>();
        let time = 10_000;
        let newest = time;
        let crowd = 0;
        for (const step of ops) {
          if (step.kind === 'crowd') {
            // Stamped at the newest time: keys of other callers, which the sweep may forget.
            for (let i = 0; i < step.count; i++) store.checkAndConsumeSync([{ key: `crowd:${crowd++}`, windowMs, max: 100, amount: 1, blocking: true }], newest);
            continue;
          }
          if (step.kind === 'release') {
            const target = consumed[step.pick % Math.max(1, consumed.length)];
            if (!target) continue;
            store.releaseSync([{ id: target.id, key: target.key, atMs: target.atMs, windowMs, amount: target.amount }]);
            if (!released.has(target.id)) log.push({ key: target.key, time: target.atMs, amount: -target.amount });
            released.add(target.id);
            continue;
          }
          time = Math.max(time + step.dt, newest - windowMs + 1);
          newest = Math.max(newest, time);
          const key = `k${step.key}`;
          const used = log.filter((e) => e.key === key && e.time > time - windowMs).reduce((sum, e) => sum + e.amount, 0);
          const outcome = store.checkAndConsumeSync([{ key, windowMs, max, amount: step.amount, blocking: true }], time);
          expect(outcome.results[0]).toEqual({ used, exceeded: used + step.amount > max });
          if (outcome.consumed) {
            log.push({ key, time, amount: step.amount });
            consumed.push({ id: `c${consumed.length}`, key, atMs: time, amount: step.amount });
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('MemoryCounterStore with several checks in one call', () => {
  it('records each check, also when two name the same key (the first moves it from one entry to a log)', () => {
    const store = new MemoryCounterStore();
    const check = (amount: number) => ({ key: 'k', windowMs: 1000, max: 100, amount, blocking: true });
    expect(store.checkAndConsumeSync([check(2), check(3)], 10).consumed).toBe(true);
    expect(store.checkAndConsumeSync([check(4)], 11).results[0]?.used).toBe(5);
    expect(store.checkAndConsumeSync([check(1), check(1), check(1)], 12).consumed).toBe(true);
    expect(store.checkAndConsumeSync([check(0)], 13).results[0]?.used).toBe(12);
    expect(store.checkAndConsumeSync([check(0)], 1011).results[0]?.used).toBe(3);
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
    // Every key is touched once; once 4,096 keys are held the sweep forgets those two windows behind.
    expect(store.keyCount).toBeLessThan(5000);
    expect(store.keyCount).toBeGreaterThanOrEqual(2 * windowMs);
  });

  it('sweeps a few keys at a time: no consumption forgets a whole pile at once, and the keys held stay bounded', () => {
    const store = new MemoryCounterStore();
    const windowMs = 5000;
    let most = 0;
    let biggestDrop = 0;
    for (let i = 0; i < 60_000; i++) {
      const before = store.keyCount;
      store.checkAndConsumeSync([{ key: `k${i}`, windowMs, max: 10, amount: 1, blocking: true }], i);
      biggestDrop = Math.max(biggestDrop, before + 1 - store.keyCount);
      most = Math.max(most, store.keyCount);
    }
    // A walk over every key at once (the old sweep, every 4,096 consumptions) forgot thousands in
    // one call, a stall of milliseconds with 100,000s of keys; a step examines 256.
    expect(biggestDrop).toBeLessThanOrEqual(256);
    expect(biggestDrop).toBeGreaterThan(0);
    // 10,000 keys are live (entries are kept for two windows); 4 examined per consumption keep
    // the rest to about a third more.
    expect(most).toBeLessThan(2 * windowMs * 1.6);
    expect(store.keyCount).toBeGreaterThanOrEqual(2 * windowMs);
  });

  it('forgets nothing while it holds few keys, so a stream with a clock jump decides as if nothing were swept', () => {
    const store = new MemoryCounterStore();
    const hour = 3_600_000;
    const rate = (at: number) => store.checkAndConsumeSync([{ key: 'rate:bot-2', windowMs: hour, max: 10, amount: 1, blocking: true }], at);
    // One call stamped a day ahead (another agent's), then a burst back on the first day: the
    // eleventh call of the hour is over the limit, however often the sweep has run meanwhile.
    store.checkAndConsumeSync([{ key: 'rate:bot-1', windowMs: hour, max: 10, amount: 1, blocking: true }], 24 * hour);
    for (let i = 0; i < 200; i++) store.checkAndConsumeSync([{ key: `other:${i}`, windowMs: hour, max: 10, amount: 1, blocking: true }], 24 * hour + i);
    const outcomes = Array.from({ length: 11 }, (_, i) => {
      for (let j = 0; j < 64; j++) store.checkAndConsumeSync([{ key: `noise:${i}:${j}`, windowMs: hour, max: 10, amount: 1, blocking: true }], 1000 + i);
      return rate(60_000 * i).consumed;
    });
    expect(outcomes).toEqual([...Array(10).fill(true), false]);
  });
});
