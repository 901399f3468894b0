import { describe, expect, it } from 'vitest';
import { approverGroups, compile, DEFAULT_ROUTE, parseBundle, PolicyLoadError, type Decision, type Engine, type LoadError } from '../src/index.js';

const header = `policy: p
appliesTo: { roles: [r] }
tools:
  pay:
    args:
      amount: { type: number, minimum: 0 }
      note: { type: string }
    required: [amount]
`;

function engineFor(rules: string, limits = ''): Engine {
  return compile(parseBundle([{ file: 'p.yaml', text: `${header}rules:\n${rules}${limits ? `limits:\n${limits}` : ''}` }]));
}

function errorsOf(rules: string): LoadError[] {
  try {
    engineFor(rules);
    return [];
  } catch (error) {
    if (PolicyLoadError.isInstance(error)) return [...error.errors];
    throw error;
  }
}

const pay = (engine: Engine, args: Record<string, unknown>, at?: string): Decision => engine.decideSync({ agent: 'a', role: 'r', tool: 'pay', args, ...(at ? { at } : {}) });

const tiered = `  - id: pay-review
    tool: pay
    when: args.amount > 50
    effect: require_approval
    approval:
      timeout: 30m
      onTimeout: escalate
      expiresIn: 2h
      tiers:
        - name: lead
          when: args.amount <= 200
          approvers: [leads]
        - name: manager
          when: args.amount <= 10000
          approvers: [managers]
          timeout: 1h
        - name: finance
          approvers: [finance, cfo-office]
          required: 2
`;

describe('approval routes', () => {
  const engine = engineFor(tiered);

  it.each([
    [75, 'lead', 0, ['leads'], 1, '30m', 'escalate'],
    [200, 'lead', 0, ['leads'], 1, '30m', 'escalate'],
    [200.01, 'manager', 1, ['managers'], 1, '1h', 'escalate'],
    [10_000, 'manager', 1, ['managers'], 1, '1h', 'escalate'],
    [10_000.5, 'finance', 2, ['finance', 'cfo-office'], 2, '30m', 'block'],
  ] as const)('a payment of %d starts at tier %s', (amount, tier, tierIndex, approvers, required, timeout, onTimeout) => {
    const decision = pay(engine, { amount });
    expect(decision).toMatchObject({ effect: 'require_approval', rule: 'pay-review', approvers });
    expect(decision.approval).toMatchObject({ tier, tierIndex, approvers, required, timeout, onTimeout, expiresIn: '2h' });
    expect(decision.approval?.tiers.map((t) => t.name)).toEqual(['lead', 'manager', 'finance']);
  });

  it('resolves `escalate` on the last tier to `block`: there is nobody to escalate to', () => {
    expect(pay(engine, { amount: 75 }).approval?.tiers.map((t) => t.onTimeout)).toEqual(['escalate', 'escalate', 'block']);
  });

  it('carries no route when the call does not need approval', () => {
    const allowed = pay(engine, { amount: 10 });
    expect(allowed.effect).toBe('block');
    expect(allowed.approval).toBeUndefined();
    expect(allowed.approvers).toBeUndefined();
  });

  it('reads `approvers:` as a one-tier route, and no approvers as a route any approver may take', () => {
    const short = engineFor(`  - { id: r1, tool: pay, when: 'args.amount > 5', effect: require_approval, approvers: [leads] }
  - { id: r2, tool: pay, effect: require_approval }
`);
    expect(pay(short, { amount: 6 }).approval).toMatchObject({ tier: 'tier-1', approvers: ['leads'], required: 1, timeout: null, onTimeout: 'block', expiresIn: null });
    expect(pay(short, { amount: 1 }).approval).toMatchObject({ tier: 'default', approvers: [], required: 1 });
  });

  it('writes one tier inline, with N distinct approvers', () => {
    const twoPerson = engineFor(`  - id: big
    tool: pay
    effect: require_approval
    approval: { approvers: [finance], required: 2, timeout: 4h }
`);
    expect(pay(twoPerson, { amount: 20_000 }).approval).toMatchObject({ tier: 'tier-1', approvers: ['finance'], required: 2, timeout: '4h', onTimeout: 'block' });
  });

  it('gives a call sent to approval by its risk score the default route', () => {
    const risky = engineFor(`  - { id: score, tool: pay, risk: 45 }
  - { id: ok, tool: pay, effect: allow }
`);
    const decision = pay(risky, { amount: 1 });
    expect(decision).toMatchObject({ effect: 'require_approval', decidedBy: 'risk', approvers: [] });
    expect(decision.approval).toBe(DEFAULT_ROUTE);
  });

  it('routes a call a limit sends to approval by the limit’s own route', () => {
    const limited = engineFor(
      `  - { id: ok, tool: pay, effect: allow }\n`,
      `  - id: budget
    tools: [pay]
    key: [agent]
    sum: args.amount
    max: 100
    window: 1h
    effect: require_approval
    approval:
      tiers:
        - { name: small, when: args.amount < 80, approvers: [leads] }
        - { name: big, approvers: [managers], required: 2 }
`,
    );
    const at = '2026-11-23T10:00:00Z';
    expect(pay(limited, { amount: 60 }, at).approval).toBeUndefined();
    expect(pay(limited, { amount: 60 }, at)).toMatchObject({ effect: 'require_approval', rule: 'budget', approval: { tier: 'small', approvers: ['leads'] } });
    expect(pay(limited, { amount: 90 }, at)).toMatchObject({ effect: 'require_approval', rule: 'budget', approval: { tier: 'big', required: 2 } });
  });

  it('blocks with condition_error when a tier condition fails, and then charges nothing', () => {
    const broken = engineFor(
      `  - { id: ok, tool: pay, effect: allow }\n`,
      `  - id: rate
    tools: [pay]
    key: [agent]
    max: 0
    window: 1h
    effect: require_approval
    approval:
      tiers:
        - { when: 'args.note == "x"', approvers: [a] }
        - { approvers: [b] }
  - { id: cap, tools: [pay], key: [agent], max: 1, window: 1h, effect: block }
`,
    );
    const at = '2026-11-23T10:00:00Z';
    const failed = pay(broken, { amount: 1 }, at);
    expect(failed).toMatchObject({ effect: 'block', decidedBy: 'error', error: { code: 'condition_error' } });
    expect(failed.error?.message).toContain("limit 'rate', approval tier 'tier-1'");
    // Nothing was charged: the one call `cap` allows still goes through to approval.
    expect(pay(broken, { amount: 1, note: 'x' }, at)).toMatchObject({ effect: 'require_approval', approval: { approvers: ['a'] } });
    expect(pay(broken, { amount: 1, note: 'x' }, at)).toMatchObject({ effect: 'block', rule: 'cap' });
  });

  it('evaluatePolicy judges a call by schema, rules and risk, and charges no limit', () => {
    const limited = engineFor(`  - { id: ok, tool: pay, when: 'args.amount <= 100', effect: allow }\n  - { id: no, tool: pay, when: 'args.amount > 100', effect: block }\n`, `  - { id: cap, tools: [pay], key: [agent], max: 1, window: 1h, effect: block }\n`);
    const at = '2026-11-23T10:00:00Z';
    for (let i = 0; i < 3; i++) expect(limited.evaluatePolicy({ agent: 'a', role: 'r', tool: 'pay', args: { amount: 5 }, at })).toMatchObject({ effect: 'allow', limits: [] });
    expect(limited.evaluatePolicy({ agent: 'a', role: 'r', tool: 'pay', args: { amount: 500 }, at })).toMatchObject({ effect: 'block', rule: 'no' });
    expect(limited.evaluatePolicy({ agent: 'a', role: 'r', tool: 'pay', args: { amount: '5' }, at })).toMatchObject({ effect: 'block', error: { code: 'invalid_arguments' } });
    expect(pay(limited, { amount: 5 }, at)).toMatchObject({ effect: 'allow' });
    expect(pay(limited, { amount: 5 }, at)).toMatchObject({ effect: 'block', rule: 'cap' });
  });

  it('lists every approver group a bundle names', () => {
    const bundle = parseBundle([{ file: 'p.yaml', text: `${header}rules:\n${tiered}  - { id: other, tool: pay, effect: require_approval, approvers: [auditors] }\n` }]);
    expect(approverGroups(bundle)).toEqual(['auditors', 'cfo-office', 'finance', 'leads', 'managers']);
  });
});

describe('approval routes that do not load', () => {
  const rule = (approval: string, extra = 'effect: require_approval'): string => `  - id: x\n    tool: pay\n    ${extra}\n    approval:\n${approval}`;
  const cases: [string, string, Partial<LoadError>][] = [
    ['approvers and approval on one rule', `  - { id: x, tool: pay, effect: require_approval, approvers: [a], approval: { approvers: [b] } }\n`, { code: 'invalid_policy', path: 'rules[0].approval' }],
    ['a route on a rule that does not ask for approval', rule('      approvers: [a]\n', 'effect: block'), { code: 'invalid_policy', path: 'rules[0].approval' }],
    ['both inline approvers and tiers', rule('      approvers: [a]\n      tiers: [{ approvers: [b] }]\n'), { code: 'invalid_policy', path: 'rules[0].approval' }],
    ['a last tier with a condition', rule('      tiers:\n        - { approvers: [a] }\n        - { when: args.amount > 5, approvers: [b] }\n'), { code: 'invalid_policy', path: 'rules[0].approval.tiers[1].when' }],
    ['a timeout longer than the expiry', rule('      approvers: [a]\n      timeout: 3h\n      expiresIn: 1h\n'), { code: 'invalid_policy', path: 'rules[0].approval.timeout' }],
    ['a tier timeout longer than the expiry', rule('      expiresIn: 1h\n      tiers: [{ approvers: [a], timeout: 2h }]\n'), { code: 'invalid_policy', path: 'rules[0].approval.tiers[0].timeout' }],
    ['a malformed timeout', rule('      approvers: [a]\n      timeout: soon\n'), { code: 'invalid_duration', path: 'rules[0].approval.timeout' }],
    ['a malformed expiry', rule('      approvers: [a]\n      expiresIn: 0s\n'), { code: 'invalid_duration', path: 'rules[0].approval.expiresIn' }],
    ['two tiers with one name', rule('      tiers:\n        - { name: t, when: args.amount > 5, approvers: [a] }\n        - { name: t, approvers: [b] }\n'), { code: 'invalid_policy', path: 'rules[0].approval.tiers[1].name' }],
    ['a misspelt tier condition', rule('      tiers:\n        - { when: args.ammount > 5, approvers: [a] }\n        - { approvers: [b] }\n'), { code: 'cel_type', path: 'rules[0].approval.tiers[0].when' }],
    ['a tier condition that is not a bool', rule('      tiers:\n        - { when: args.amount, approvers: [a] }\n        - { approvers: [b] }\n'), { code: 'cel_type', path: 'rules[0].approval.tiers[0].when' }],
    ['no approvers in a tier', rule('      tiers: [{ approvers: [] }]\n'), { code: 'invalid_policy' }],
    ['zero required approvals', rule('      approvers: [a]\n      required: 0\n'), { code: 'invalid_policy' }],
    ['an unknown timeout action', rule('      approvers: [a]\n      onTimeout: approve\n'), { code: 'invalid_policy' }],
    ['an unknown key', rule('      approvers: [a]\n      quorum: 2\n'), { code: 'invalid_policy' }],
  ];
  it.each(cases)('%s', (_label, rules, expected) => {
    const errors = errorsOf(rules);
    expect(errors.length, JSON.stringify(errors)).toBeGreaterThan(0);
    expect(errors[0]).toMatchObject(expected);
    expect(errors[0]?.line).toBeGreaterThan(0);
  });
});
