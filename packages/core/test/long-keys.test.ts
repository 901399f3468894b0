import { describe, expect, it } from 'vitest';
import { compile, MemoryCounterStore, MemorySeenStore, parseBundle, type DecisionRequest } from '../src/index.js';
import { MAX_KEY_CHARS } from '../src/engine/engine.js';

/**
 * Counter and novelty keys carry argument values; a tool whose schema sets no maxLength lets an
 * agent send ~1 MB values. Past MAX_KEY_CHARS a key is the SHA-256 of itself: the same values still
 * share a counter, different ones do not, and a key never costs more than ~200 characters.
 */
const POLICY = `
policy: payouts
appliesTo: { roles: [finance] }
default: block
tools:
  pay:
    args:
      payee: { type: string }
      amount: { type: number, minimum: 0 }
signals:
  novelty:
    - id: new_payee
      tools: [pay]
      key: [args.payee]
rules:
  - id: first-payee
    tool: pay
    when: novel.new_payee
    effect: require_approval
  - id: known-payee
    tool: pay
    when: "!novel.new_payee"
    effect: allow
limits:
  - id: payee-budget
    tools: [pay]
    key: [args.payee]
    sum: args.amount
    max: 100
    window: 24h
    effect: block
`;

const call = (payee: string, amount: number, at: string): DecisionRequest => ({ agent: 'fin-1', role: 'finance', environment: 'production', tool: 'pay', args: { payee, amount }, at });

describe('long counter and novelty keys', () => {
  it('share a budget between calls with the same long value, and only those, with short keys', async () => {
    const counters = new MemoryCounterStore();
    const seen = new MemorySeenStore();
    const engine = compile(parseBundle([{ file: 'payouts.yaml', text: POLICY }]), { counters, seen });
    const a = 'A'.repeat(900_000);
    const b = `${'A'.repeat(899_999)}B`;
    const first = await engine.decide(call(a, 60, '2026-03-06T10:00:00Z'));
    expect(first.effect).toBe('require_approval');
    const key = first.limits[0]?.key ?? '';
    expect(key.length).toBeLessThan(200);
    expect(key.startsWith('["payouts","payee-budget",#')).toBe(true);
    // The same 900 KB payee: its 60 counts, 60 + 60 > 100 blocks.
    expect((await engine.decide(call(a, 60, '2026-03-06T10:01:00Z'))).effect).toBe('block');
    // Another payee that differs in its last character only: a budget of its own.
    const other = await engine.decide(call(b, 60, '2026-03-06T10:02:00Z'));
    expect(other.effect).not.toBe('block');
    expect(other.limits[0]?.key).not.toBe(key);
    // A short value keeps its readable key.
    expect((await engine.decide(call('P-1', 10, '2026-03-06T10:03:00Z'))).limits[0]?.key).toBe('["payouts","payee-budget","P-1"]');
  });

  it('remembers a long payee as seen once it ran, and a different long one as new', () => {
    const seen = new MemorySeenStore();
    const engine = compile(parseBundle([{ file: 'payouts.yaml', text: POLICY }]), { seen });
    const a = 'x'.repeat(MAX_KEY_CHARS * 4);
    expect(engine.decideSync(call(a, 1, '2026-03-06T10:00:00Z')).rule).toBe('first-payee');
    engine.markExecuted(call(a, 1, '2026-03-06T10:00:00Z'));
    expect(engine.decideSync(call(a, 1, '2026-03-06T10:05:00Z')).rule).toBe('known-payee');
    expect(engine.decideSync(call(`${a}y`, 1, '2026-03-06T10:05:00Z')).rule).toBe('first-payee');
    expect(seen.size).toBe(1);
  });

  it('a key just under the bound is kept as it is, one just over it is digested', () => {
    const engine = compile(parseBundle([{ file: 'payouts.yaml', text: POLICY }]));
    const prefix = '["payouts","payee-budget",""]'.length;
    const under = engine.decideSync(call('u'.repeat(MAX_KEY_CHARS - prefix), 1, '2026-03-06T10:00:00Z')).limits[0]?.key ?? '';
    const over = engine.decideSync(call('o'.repeat(MAX_KEY_CHARS - prefix + 1), 1, '2026-03-06T10:00:00Z')).limits[0]?.key ?? '';
    expect(under.length).toBe(MAX_KEY_CHARS);
    expect(under.endsWith('"]')).toBe(true);
    expect(over).toMatch(/^\["payouts","payee-budget",#[0-9a-f]{64}\]$/);
  });
});
