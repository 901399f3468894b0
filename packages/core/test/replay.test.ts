import { describe, expect, it } from 'vitest';
import { compile, loadBundle, parseBundle, readPolicySources, replayCalls, replayStream, type PolicyBundle, type RecordedCall } from '../src/index.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-23T10:00:00Z');

const refund = (id: string, account: string, amount: number, atMs: number): RecordedCall['request'] & { id: string } => ({
  id,
  agent: 'support-bot-1',
  role: 'support',
  environment: 'production',
  tool: 'issue_refund',
  args: { account_id: account, amount, currency: 'USD' },
  at: new Date(atMs).toISOString(),
});

/** Records what the given bundle decides, call after call, as the server's audit trail would. */
function record(bundle: PolicyBundle, requests: (RecordedCall['request'] & { id: string })[]): RecordedCall[] {
  const engine = compile(bundle);
  return requests.map(({ id, ...request }) => {
    const decision = engine.decideSync(request);
    return { id, request, effect: decision.effect, rule: decision.rule };
  });
}

/** The example bundle with one file's text edited. */
function edited(file: string, from: string, to: string): PolicyBundle {
  const sources = readPolicySources('examples/policies').map((source) => {
    if (source.file !== file) return source;
    expect(source.text).toContain(from);
    return { file, text: source.text.replace(from, to) };
  });
  return parseBundle(sources, 'candidate');
}

describe('replayCalls', () => {
  const seeds = loadBundle('examples/policies');
  const stricterBudget = edited('customer-support.yaml', 'max: 100\n', 'max: 40\n');
  const calls = record(seeds, [
    refund('a1', 'A', 30, T0),
    refund('b1', 'B', 35, T0 + 1000),
    refund('a2', 'A', 30, T0 + 2000),
    refund('a3', 'A', 30, T0 + 3000),
    refund('m1', 'C', 75, T0 + 4000),
    // The 24 h window of A's first three refunds has passed: its budget is fresh again.
    refund('a4', 'A', 30, T0 + 25 * HOUR),
  ]);

  it('records what the active policy decided', () => {
    expect(calls.map((c) => `${c.id}:${c.effect}`)).toEqual(['a1:allow', 'b1:allow', 'a2:allow', 'a3:allow', 'm1:require_approval', 'a4:allow']);
  });

  it('reports totals and the exact flips of a stricter budget, replaying limit state', () => {
    const report = replayCalls(stricterBudget, calls);
    expect(report.calls).toBe(6);
    expect(report.before).toEqual({ allow: 5, require_approval: 1, block: 0 });
    expect(report.after).toEqual({ allow: 3, require_approval: 3, block: 0 });
    expect(report.flipped).toBe(2);
    expect(report.flips).toHaveLength(1);
    const [flip] = report.flips;
    expect(flip).toMatchObject({ from: 'allow', to: 'require_approval', rule: 'refund-budget', count: 2 });
    expect(flip?.examples.map((e) => e.id)).toEqual(['a2', 'a3']);
    expect(flip?.examples[0]).toMatchObject({
      before: { effect: 'allow', rule: 'refund-small' },
      after: { effect: 'require_approval', rule: 'refund-budget', decidedBy: 'limit' },
    });
  });

  it('replays the recorded policy itself with no flips', () => {
    const report = replayCalls(seeds, calls);
    expect(report.flipped).toBe(0);
    expect(report.after).toEqual(report.before);
  });

  it('sorts calls into time order first', () => {
    const shuffled = [calls[5], calls[3], calls[0], calls[4], calls[2], calls[1]] as RecordedCall[];
    expect(replayCalls(stricterBudget, shuffled)).toEqual(replayCalls(stricterBudget, calls));
  });

  it('streams in the given order with the same result', async () => {
    async function* source(): AsyncGenerator<RecordedCall> {
      yield* calls;
    }
    expect(await replayStream(stricterBudget, source())).toEqual(replayCalls(stricterBudget, calls));
  });

  it('keeps at most examplesPerFlip examples, counting every flip', () => {
    const report = replayCalls(stricterBudget, calls, { examplesPerFlip: 1 });
    expect(report.flips[0]?.count).toBe(2);
    expect(report.flips[0]?.examples.map((e) => e.id)).toEqual(['a2']);
  });

  it('groups flips by from, to and candidate rule, largest first', () => {
    const thresholds = edited('customer-support.yaml', 'when: args.amount <= 50\n', 'when: args.amount <= 20\n');
    const report = replayCalls(thresholds, calls);
    // 30 and 35 now match no rule: the policy default (block) decides, rule null.
    expect(report.flips.map((f) => [f.from, f.to, f.rule, f.count])).toEqual([['allow', 'block', null, 5]]);
    expect(report.after).toEqual({ allow: 0, require_approval: 1, block: 5 });
  });
});

describe('limit state in a replay', () => {
  const policy = (limit: string): PolicyBundle =>
    parseBundle(
      [
        {
          file: 'p.yaml',
          text: `policy: p
appliesTo: { roles: [r] }
tools:
  ping: { args: {} }
rules:
  - { id: ping, tool: ping, effect: allow }
${limit}`,
        },
      ],
      'p',
    );
  const without = policy('');
  const withRate = policy('limits:\n  - { id: rate, tools: [ping], key: [agent], max: 2, window: 1m, effect: block }\n');
  const ping = (id: string, seconds: number) => ({ id, agent: 'a', role: 'r', tool: 'ping', args: {}, at: T0 + seconds * 1000 });

  it('blocked calls consume nothing and windows roll', () => {
    const calls = record(without, [ping('t0', 0), ping('t10', 10), ping('t20', 20), ping('t30', 30), ping('t70', 70), ping('t90', 90)]);
    const report = replayCalls(withRate, calls);
    // 20 s and 30 s: two calls already in the minute → block (not counted). 70 s: the 0 s and 10 s
    // calls are out of the window (0, 70] exclusive of 10 s → allow. 90 s: only 70 s inside → allow.
    expect(report.flips).toEqual([
      expect.objectContaining({ from: 'allow', to: 'block', rule: 'rate', count: 2, examples: [expect.objectContaining({ id: 't20' }), expect.objectContaining({ id: 't30' })] }),
    ]);
    expect(report.after).toEqual({ allow: 4, require_approval: 0, block: 2 });
  });

  it('replays 100,000 calls', () => {
    const calls: RecordedCall[] = [];
    for (let i = 0; i < 100_000; i++) calls.push({ request: { agent: `a${i % 100}`, role: 'r', tool: 'ping', args: {}, at: T0 + i * 100 }, effect: 'allow', rule: 'ping' });
    const report = replayCalls(withRate, calls);
    // Each of the 100 agents calls every 10 s (1,000 calls each): of every six calls the first two
    // are allowed, the next four blocked, then the window has rolled past them. 334 per agent.
    expect(report.calls).toBe(100_000);
    expect(report.after).toEqual({ allow: 33_400, require_approval: 0, block: 66_600 });
    expect(report.flips.map((f) => [f.from, f.to, f.rule, f.count])).toEqual([['allow', 'block', 'rate', 66_600]]);
  });
});
