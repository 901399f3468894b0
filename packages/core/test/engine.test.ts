import { describe, expect, it } from 'vitest';
import {
  compile,
  loadBundle,
  MemoryCounterStore,
  parseBundle,
  type CounterStore,
  type Decision,
  type DecisionRequest,
  type Engine,
} from '../src/index.js';

const seeds = loadBundle('examples/policies');
const refund = (amount: unknown, extra: Record<string, unknown> = {}): DecisionRequest => ({
  agent: 'support-bot-1',
  role: 'support',
  environment: 'production',
  tool: 'issue_refund',
  args: { account_id: 'A-17', amount, currency: 'USD', ...extra } as Record<string, unknown>,
});

function engineFor(text: string, options = {}): Engine {
  return compile(parseBundle([{ file: 'p.yaml', text }]), options);
}

describe('bad input fails closed with a stable code', () => {
  const engine = compile(seeds);
  const deep = (levels: number): unknown => (levels === 0 ? 'x' : { nested: deep(levels - 1) });
  /** Built in a loop: 100,000 levels would overflow the recursive builder. */
  const deeper = (levels: number): unknown => {
    let value: unknown = 'x';
    for (let i = 0; i < levels; i++) value = { nested: value };
    return value;
  };
  const record = (fields: unknown): DecisionRequest => ({ agent: 'workflow-bot-1', role: 'workflow', tool: 'create_record', args: { system: 'crm', object: 'contact', fields } as Record<string, unknown> });
  const cases: [string, DecisionRequest, string, string?][] = [
    ['string amount', refund('75'), 'invalid_arguments', 'args.amount'],
    ['exponent string', refund('5e2'), 'invalid_arguments', 'args.amount'],
    ['negative amount', refund(-1), 'invalid_arguments', 'args.amount'],
    ['NaN', refund(Number.NaN), 'invalid_arguments', 'args.amount'],
    ['Infinity', refund(Number.POSITIVE_INFINITY), 'invalid_arguments', 'args.amount'],
    ['null amount', refund(null), 'invalid_arguments', 'args.amount'],
    ['boolean amount', refund(true), 'invalid_arguments', 'args.amount'],
    ['missing field', { ...refund(10), args: { account_id: 'A', amount: 10 } }, 'invalid_arguments', 'args.currency'],
    ['missing args', { ...refund(10), args: undefined }, 'invalid_arguments', 'args.account_id'],
    ['extra field', refund(10, { note: 'hi' }), 'invalid_arguments', 'args.note'],
    ['prototype key', refund(10, JSON.parse('{"__proto__": {"amount": 1}}') as Record<string, unknown>), 'invalid_arguments', 'args.__proto__'],
    ['wrong enum', refund(10, { currency: 'usd' }), 'invalid_arguments', 'args.currency'],
    ['args with a custom prototype', { ...refund(10), args: Object.assign(Object.create({ amount: 1 }) as object, { account_id: 'A', currency: 'USD' }) as Record<string, unknown> }, 'invalid_arguments', 'args'],
    ['args is an array', { ...refund(10), args: [] as unknown as Record<string, unknown> }, 'invalid_arguments', 'args'],
    ['unknown tool', { ...refund(10), tool: 'issue_refunds' }, 'unknown_tool', 'tool'],
    ['case-changed tool', { ...refund(10), tool: 'Issue_refund' }, 'unknown_tool', 'tool'],
    ['padded tool name', { ...refund(10), tool: ' issue_refund' }, 'unknown_tool', 'tool'],
    ['prototype tool name', { ...refund(10), tool: 'constructor' }, 'unknown_tool', 'tool'],
    ['role without policy', { ...refund(10), role: 'intern' }, 'no_policy', 'role'],
    ['role named like a prototype property', { ...refund(10), role: '__proto__' }, 'no_policy', 'role'],
    ['tool of another role', { ...refund(10), role: 'devops' }, 'unknown_tool', 'tool'],
    ['arguments deeper than 32 levels', { ...refund(10), args: { account_id: 'A', amount: 1, currency: 'USD', x: deep(40) } as Record<string, unknown> }, 'request_too_large', 'args'],
    ['arguments nested 100,000 levels', { ...refund(10), args: { account_id: 'A', amount: 1, currency: 'USD', x: deeper(100_000) } as Record<string, unknown> }, 'request_too_large', 'args'],
    // A closed schema's fast path accepted these: an open map (`fields: { type: object }`) of any depth was allowed.
    ['an open map of a closed schema deeper than 32 levels', record(deep(40)), 'request_too_large', 'args'],
    ['an open map of a closed schema nested 100,000 levels', record(deeper(100_000)), 'request_too_large', 'args'],
    ['an open map of a closed schema over 1 MiB', record({ note: 'x'.repeat(1024 * 1024 + 1) }), 'request_too_large', 'args'],
    ['arguments over 1 MiB', refund(10, { account_id: 'A'.repeat(1024 * 1024 + 1) }), 'request_too_large', 'args'],
    ['unparseable at', { ...refund(10), at: 'yesterday' }, 'invalid_request', 'at'],
    ['non-string agent', { ...refund(10), agent: 42 as unknown as string }, 'invalid_request', 'agent'],
  ];
  it.each(cases)('%s', (_name, request, code, path) => {
    const decision = engine.decideSync(request);
    expect(decision.effect).toBe('block');
    expect(decision.decidedBy).toBe('error');
    expect(decision.rule).toBeNull();
    expect(decision.error?.code).toBe(code);
    if (path) expect(decision.error?.path).toBe(path);
    expect(decision.reason.length).toBeGreaterThan(0);
  });

  it('never throws, even for a request that is not an object', () => {
    expect(engine.decideSync(null as unknown as DecisionRequest).error?.code).toBe('invalid_request');
    expect(engine.decideSync('x' as unknown as DecisionRequest).error?.code).toBe('invalid_request');
  });

  it('blocks with engine_error when evaluation itself fails', () => {
    const hostile = refund(10);
    Object.defineProperty(hostile, 'args', {
      get() {
        throw new Error('boom');
      },
    });
    const decision = engine.decideSync(hostile);
    expect(decision).toMatchObject({ effect: 'block', error: { code: 'engine_error' } });
  });

  it('blocks with store_unavailable when the counter store fails, and engine_error for sync use of an async store', async () => {
    const failing: CounterStore = { checkAndConsume: () => Promise.reject(new Error('connection refused')) };
    const withFailingStore = compile(seeds, { counters: failing });
    const decision = await withFailingStore.decide(refund(10));
    expect(decision).toMatchObject({ effect: 'block', error: { code: 'store_unavailable' } });
    expect(withFailingStore.decideSync(refund(10)).error?.code).toBe('engine_error');
    // Calls with no limit to consult never touch the store.
    expect((await withFailingStore.decide({ ...refund(10), tool: 'get_account', args: { account_id: 'A' } })).effect).toBe('allow');
  });
});

describe('precedence and explanation', () => {
  const policy = `policy: p
appliesTo: { roles: [r] }
default: allow
tools:
  act:
    args: { n: { type: integer } }
  get_one:
    args: {}
  get_two:
    args: {}
rules:
  - id: allow-all
    tool: act
    effect: allow
  - id: approve-big
    tool: act
    when: args.n > 10
    effect: require_approval
    approvers: [leads]
  - id: block-huge
    tool: act
    when: args.n > 100
    effect: block
  - id: reads
    tool: get_*
    effect: allow
  - id: block-two
    tool: [get_two]
    effect: block
`;
  const engine = engineFor(policy);
  const call = (tool: string, args: Record<string, unknown> = {}): Decision => engine.decideSync({ agent: 'a', role: 'r', tool, args });

  it('block beats require_approval beats allow, and every match is listed', () => {
    expect(call('act', { n: 1 })).toMatchObject({ effect: 'allow', rule: 'allow-all', decidedBy: 'rule' });
    expect(call('act', { n: 11 })).toMatchObject({ effect: 'require_approval', rule: 'approve-big', approvers: ['leads'] });
    const huge = call('act', { n: 101 });
    expect(huge).toMatchObject({ effect: 'block', rule: 'block-huge' });
    expect(huge.matched.map((m) => m.rule)).toEqual(['allow-all', 'approve-big', 'block-huge']);
    expect(huge.approvers).toBeUndefined();
  });

  it('globs match declared tools; a later explicit block still wins', () => {
    expect(call('get_one')).toMatchObject({ effect: 'allow', rule: 'reads' });
    expect(call('get_two')).toMatchObject({ effect: 'block', rule: 'block-two' });
  });

  it('names the policy, bundle and version used', () => {
    const decision = call('get_one');
    expect(decision.policy).toEqual({ bundle: 'bundle', version: engine.version, policies: ['p'] });
    expect(compile(parseBundle([{ file: 'p.yaml', text: policy }]), { version: 7 }).version).toBe(7);
  });

  it('falls back to the policy default when no rule matches, block unless written otherwise', () => {
    const blocking = engineFor(policy.replace('default: allow\n', '').replace('  - id: allow-all\n    tool: act\n    effect: allow\n', ''));
    expect(blocking.decideSync({ agent: 'a', role: 'r', tool: 'act', args: { n: 1 } })).toMatchObject({
      effect: 'block',
      rule: null,
      decidedBy: 'default',
    });
  });

  it('reads the clock only when a limit or a time condition needs it, and prefers the request time', () => {
    let reads = 0;
    const clock = (): number => {
      reads++;
      return Date.parse('2030-01-01T00:00:00Z');
    };
    const stateless = engineFor(policy, { clock });
    expect(stateless.decideSync({ agent: 'a', role: 'r', tool: 'get_one', args: {} }).effect).toBe('allow');
    expect(reads).toBe(0);
    const budgeted = compile(seeds, { clock });
    budgeted.decideSync({ ...refund(10), at: '2026-01-02T03:04:05Z' });
    expect(reads).toBe(0);
    budgeted.decideSync(refund(10));
    expect(reads).toBe(1);
  });
});

describe('environments, roles, context variables', () => {
  const policy = `policy: p
appliesTo: { roles: [ops, sre] }
tools:
  deploy:
    args: { service: { type: string } }
rules:
  - id: deploy-prod
    tool: deploy
    when: environment == "production"
    effect: require_approval
  - id: deploy-other
    tool: deploy
    when: environment != "production"
    effect: allow
  - id: sre-night
    tool: deploy
    when: role == "sre" && time.hour < 6
    effect: block
  - id: session-scoped
    tool: deploy
    when: has(session.id) && session.id == "blocked-session"
    effect: block
environments:
  dev:
    default: allow
    disable: [deploy-prod]
    rules:
      - id: dev-no-db
        tool: deploy
        when: args.service == "db"
        effect: block
`;
  const engine = engineFor(policy);
  const deploy = (extra: Partial<DecisionRequest>, service = 'web'): Decision =>
    engine.decideSync({ agent: 'a', role: 'ops', tool: 'deploy', args: { service }, at: '2026-01-01T12:00:00Z', ...extra });

  it('an unstated environment is production, the strictest', () => {
    expect(deploy({})).toMatchObject({ effect: 'require_approval', rule: 'deploy-prod' });
    expect(deploy({ environment: 'staging' })).toMatchObject({ effect: 'allow', rule: 'deploy-other' });
  });

  it('environment overrides disable rules and add their own', () => {
    expect(deploy({ environment: 'dev' })).toMatchObject({ effect: 'allow', rule: 'deploy-other' });
    expect(deploy({ environment: 'dev' }, 'db')).toMatchObject({ effect: 'block', rule: 'dev-no-db' });
    expect(deploy({ environment: 'production' }, 'db')).toMatchObject({ effect: 'require_approval', rule: 'deploy-prod' });
  });

  it('conditions see role, time and session', () => {
    expect(deploy({ role: 'sre', at: '2026-01-01T05:59:00Z', environment: 'staging' })).toMatchObject({ effect: 'block', rule: 'sre-night' });
    expect(deploy({ role: 'sre', at: '2026-01-01T06:00:00Z', environment: 'staging' })).toMatchObject({ effect: 'allow' });
    expect(deploy({ session: 'blocked-session', environment: 'staging' })).toMatchObject({ effect: 'block', rule: 'session-scoped' });
  });

  it('a condition error blocks the call with condition_error naming the rule', () => {
    const fragile = engineFor(`policy: p
appliesTo: { roles: [r] }
tools:
  act:
    args: { meta: { type: object } }
rules:
  - id: tiered
    tool: act
    when: args.meta.tier == "gold"
    effect: allow
`);
    const decision = fragile.decideSync({ agent: 'a', role: 'r', tool: 'act', args: { meta: {} } });
    expect(decision).toMatchObject({ effect: 'block', error: { code: 'condition_error' } });
    expect(decision.reason).toContain("rule 'tiered'");
  });

  it('several policies for one role: the strictest answer wins', () => {
    const two = compile(
      parseBundle([
        { file: 'a.yaml', text: 'policy: a\nappliesTo: { roles: [r] }\ntools: { act: { args: {} } }\nrules:\n  - { id: a-allow, tool: act, effect: allow }\n' },
        { file: 'b.yaml', text: 'policy: b\nappliesTo: { roles: [r] }\ntools: { act: { args: {} } }\nrules:\n  - { id: b-approve, tool: act, effect: require_approval }\n' },
      ]),
    );
    const decision = two.decideSync({ agent: 'x', role: 'r', tool: 'act', args: {} });
    expect(decision).toMatchObject({ effect: 'require_approval', rule: 'b-approve' });
    expect(decision.policy.policies).toEqual(['a', 'b']);
  });
});

describe('risk scoring', () => {
  const policy = `policy: p
appliesTo: { roles: [r] }
default: allow
riskTiers: { medium: 20, high: 50, critical: 90 }
tools:
  pay:
    args: { amount: { type: number }, payee: { type: string } }
rules:
  - id: pay
    tool: pay
    effect: allow
  - id: big-amount
    tool: pay
    when: args.amount > 1000
    risk: 30
  - id: odd-payee
    tool: pay
    when: args.payee.startsWith("new-")
    risk: 25
  - id: weekend
    tool: pay
    when: time.weekday == 0 || time.weekday == 6
    risk: 40
`;
  const engine = engineFor(policy);
  const pay = (amount: number, payee: string, at = '2026-11-23T10:00:00Z'): Decision =>
    engine.decideSync({ agent: 'a', role: 'r', tool: 'pay', args: { amount, payee }, at });

  it('risk points add up and the tier can make the decision stricter than the rules', () => {
    expect(pay(10, 'acme')).toMatchObject({ effect: 'allow', risk: { score: 0, level: 'low' }, flagged: false });
    expect(pay(2000, 'acme')).toMatchObject({ effect: 'allow', risk: { score: 30, level: 'medium' }, flagged: true });
    expect(pay(2000, 'new-acme')).toMatchObject({ effect: 'require_approval', decidedBy: 'risk', rule: null, risk: { score: 55, level: 'high' } });
    // 2026-11-22 is a Sunday.
    expect(pay(2000, 'new-acme', '2026-11-22T10:00:00Z')).toMatchObject({ effect: 'block', decidedBy: 'risk', risk: { score: 95, level: 'critical' } });
  });

  it('risk-only rules are listed as matched with their points', () => {
    expect(pay(2000, 'new-acme').matched).toEqual([
      { rule: 'pay', policy: 'p', effect: 'allow' },
      { rule: 'big-amount', policy: 'p', risk: 30 },
      { rule: 'odd-payee', policy: 'p', risk: 25 },
    ]);
  });
});

describe('limits', () => {
  const at = (minutes: number): string => new Date(Date.parse('2026-11-23T00:00:00Z') + minutes * 60_000).toISOString();

  it('stops twenty $49 refunds to one account: the budget is exact to the cent', () => {
    const engine = compile(seeds);
    const results = [33.33, 33.33, 33.34, 0.01].map((amount, i) => engine.decideSync({ ...refund(amount), at: at(i) }));
    expect(results.map((d) => d.effect)).toEqual(['allow', 'allow', 'allow', 'require_approval']);
    expect(results[3]).toMatchObject({ rule: 'refund-budget', decidedBy: 'limit', approvers: ['support-leads'] });
    expect(results[3]?.limits[0]).toMatchObject({ limit: 'refund-budget', kind: 'budget', used: 100, adding: 0.01, max: 100, exceeded: true });
  });

  it('the window rolls: a refund 24 hours after the first one no longer counts it', () => {
    const engine = compile(seeds);
    expect(engine.decideSync({ ...refund(50), at: at(0) }).effect).toBe('allow');
    expect(engine.decideSync({ ...refund(50), at: at(60) }).effect).toBe('allow');
    expect(engine.decideSync({ ...refund(1), at: at(24 * 60 - 1) }).effect).toBe('require_approval');
    expect(engine.decideSync({ ...refund(1), at: at(24 * 60) }).effect).toBe('allow');
  });

  it('a call that ends blocked consumes nothing; an approval consumes', () => {
    const engine = compile(seeds);
    const payment = (amount: number, minute: number): Decision =>
      engine.decideSync({ agent: 'fin-1', role: 'finance', environment: 'production', tool: 'make_payment', args: { amount, currency: 'USD', payee: 'p' }, at: at(minute) });
    for (let i = 0; i < 10; i++) expect(payment(30000, 0).effect).toBe('block'); // blocked by payment-large
    for (let i = 0; i < 49; i++) expect(payment(10, 1).effect).toBe('allow');
    expect(payment(5000, 2)).toMatchObject({ effect: 'require_approval', rule: 'payment-medium' });
    const fiftyFirst = payment(10, 3);
    expect(fiftyFirst).toMatchObject({ effect: 'block', rule: 'transaction-rate', decidedBy: 'limit' });
    expect(fiftyFirst.limits[0]).toMatchObject({ used: 50, exceeded: true, consumed: false });
    // The 51st was blocked, so it did not count: one hour after the first 49, 49 slots free up.
    expect(payment(10, 61).effect).toBe('allow');
  });

  it('checks across limits are all-or-nothing', () => {
    const engine = engineFor(`policy: p
appliesTo: { roles: [r] }
tools:
  act:
    args: { n: { type: integer } }
rules:
  - { id: act, tool: act, effect: allow }
limits:
  - { id: soft, tools: [act], key: [agent], sum: args.n, max: 10, window: 1h, effect: require_approval }
  - { id: hard, tools: [act], key: [agent], max: 3, window: 1h, effect: block }
`);
    const act = (n: number): Decision => engine.decideSync({ agent: 'a', role: 'r', tool: 'act', args: { n }, at: at(0) });
    expect(act(4).effect).toBe('allow');
    expect(act(4).effect).toBe('allow');
    expect(act(4)).toMatchObject({ effect: 'require_approval', rule: 'soft' });
    const blocked = act(1);
    expect(blocked).toMatchObject({ effect: 'block', rule: 'hard' });
    // The soft budget was not charged for the blocked call: 12 + 1 would be 13, it stays 12.
    expect(blocked.limits.find((l) => l.limit === 'soft')).toMatchObject({ used: 12, consumed: false });
  });

  it('limit keys separate accounts; a clock that steps back never re-opens a window', () => {
    const engine = compile(seeds);
    expect(engine.decideSync({ ...refund(50), at: at(10) }).effect).toBe('allow');
    expect(engine.decideSync({ ...refund(50), at: at(10) }).effect).toBe('allow');
    expect(engine.decideSync({ ...refund(50, { account_id: 'B-1' }), at: at(10) }).effect).toBe('allow');
    expect(engine.decideSync({ ...refund(1), at: at(5) }).effect).toBe('require_approval');
  });

  it('uses a shared counter store across engines (policy versions)', () => {
    const counters = new MemoryCounterStore();
    const v1 = compile(seeds, { counters });
    const v2 = compile(seeds, { counters, version: 2 });
    expect(v1.decideSync({ ...refund(50), at: at(0) }).effect).toBe('allow');
    expect(v2.decideSync({ ...refund(50), at: at(1) }).effect).toBe('allow');
    expect(v2.decideSync({ ...refund(1), at: at(2) })).toMatchObject({ effect: 'require_approval', rule: 'refund-budget' });
  });
});
