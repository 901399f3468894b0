import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileBundle } from '../src/engine/compile-bundle.js';
import { generateDecisionFunction } from '../src/engine/decision-function.js';
import { compile, loadBundle, loadSuites, MemoryCounterStore, MemorySeenStore, parseBundle, type Decision, type DecisionRequest, type Engine, type PolicyBundle } from '../src/index.js';

/**
 * The generated decision functions (decision-function.ts) against the general path
 * (`generatedDecisions: false`): the same calls, valid and hostile, in the same order, through two
 * engines with their own counters must give identical decisions, field for field and in the same
 * key order.
 */

const AT = Date.parse('2026-11-23T09:00:00Z');

function engines(bundle: PolicyBundle): { fast: Engine; general: Engine } {
  return {
    fast: compile(bundle, { counters: new MemoryCounterStore(), seen: new MemorySeenStore() }),
    general: compile(bundle, { counters: new MemoryCounterStore(), seen: new MemorySeenStore(), generatedDecisions: false }),
  };
}

function expectSame(fast: Decision | undefined, general: Decision | undefined, request: unknown): void {
  const context = JSON.stringify(request, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : value))?.slice(0, 400);
  expect(fast, context).toStrictEqual(general);
  if (fast && general) {
    expect(Object.keys(fast), context).toEqual(Object.keys(general));
    expect(JSON.stringify(fast), context).toBe(JSON.stringify(general));
  }
}

/** Every request of the seed suites and the seed call file: realistic arguments for every tool. */
function seedRequests(directory: string): DecisionRequest[] {
  const requests: DecisionRequest[] = [];
  for (const { suite } of loadSuites(`${directory}/tests`)) {
    const defaults = (suite.defaults ?? {}) as Partial<DecisionRequest>;
    for (const testCase of suite.cases) {
      const steps = [...(testCase.steps ?? []), ...(testCase.request ? [testCase] : [])];
      for (const step of steps) if (step.request) requests.push({ ...defaults, ...step.request } as DecisionRequest);
    }
  }
  for (const line of readFileSync('examples/calls.jsonl', 'utf8').split('\n')) if (line.startsWith('{"')) requests.push(JSON.parse(line) as DecisionRequest);
  return requests;
}

function deep(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

const hostileValue = fc.constantFrom<unknown>(
  '50',
  '50.01',
  '5e2',
  '',
  ' USD',
  'usd',
  '__proto__',
  'constructor',
  'x'.repeat(129),
  '😀'.repeat(128),
  '😀'.repeat(129),
  '\ud800',
  -1,
  -0,
  -0.01,
  0,
  50,
  50.01,
  200,
  200.01,
  500,
  500.01,
  999.99,
  1000,
  10000,
  10000.01,
  25000.01,
  1e308,
  5e-324,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  null,
  true,
  false,
  [],
  [1, 2],
  {},
  deep(40),
);

type Mutation =
  | { kind: 'none' }
  | { kind: 'set'; field: number; value: unknown }
  | { kind: 'delete'; field: number }
  | { kind: 'extra'; name: string; value: unknown }
  | { kind: 'proto-key' }
  | { kind: 'inherited' }
  | { kind: 'null-prototype' }
  | { kind: 'replace'; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Mutation>({ kind: 'none' }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('set' as const), field: fc.nat(), value: fc.oneof(hostileValue, fc.double(), fc.string({ maxLength: 6 })) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), field: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('extra' as const), name: fc.constantFrom('extra', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'), value: hostileValue }),
  },
  { weight: 1, arbitrary: fc.constant<Mutation>({ kind: 'proto-key' }) },
  { weight: 1, arbitrary: fc.constant<Mutation>({ kind: 'inherited' }) },
  { weight: 1, arbitrary: fc.constant<Mutation>({ kind: 'null-prototype' }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('replace' as const), value: fc.constantFrom<unknown>(null, [], 'args', 7, [{ amount: 1 }]) }) },
);

function mutate(args: Record<string, unknown>, change: Mutation): unknown {
  const fields = Object.keys(args);
  const copy: Record<string, unknown> = { ...args };
  switch (change.kind) {
    case 'none':
      return copy;
    case 'set':
      if (fields.length > 0) copy[fields[change.field % fields.length] as string] = change.value;
      return copy;
    case 'delete':
      if (fields.length > 0) delete copy[fields[change.field % fields.length] as string];
      return copy;
    case 'extra':
      copy[change.name] = change.value;
      return copy;
    case 'proto-key':
      // An own `__proto__` key, as JSON.parse makes it.
      return JSON.parse(JSON.stringify(copy).replace(/^\{/, '{"__proto__":{"amount":1},').replace(',}', '}')) as unknown;
    case 'inherited': {
      // The declared values inherited, not own (a typed caller can pass anything).
      const first = fields[0];
      const inherited = Object.create(first === undefined ? { amount: 1 } : { [first]: args[first] }) as Record<string, unknown>;
      for (const name of fields.slice(1)) inherited[name] = args[name];
      return inherited;
    }
    case 'null-prototype':
      return Object.assign(Object.create(null) as Record<string, unknown>, copy);
    case 'replace':
      return change.value;
  }
}

const ENVIRONMENTS = [undefined, 'production', 'staging', 'dev', 'sandbox', 'Production', '*', 7];

interface Call {
  base: number;
  change: Mutation;
  environment: number;
  other: 'none' | 'role' | 'tool' | 'agent';
  gapMs: number;
}

const call: fc.Arbitrary<Call> = fc.record({
  base: fc.nat(),
  change: mutation,
  environment: fc.nat({ max: ENVIRONMENTS.length * 3 }),
  other: fc.constantFrom<Call['other']>('none', 'none', 'none', 'none', 'none', 'role', 'tool', 'agent'),
  gapMs: fc.integer({ min: 0, max: 600_000 }),
});

function differential(name: string, bundle: PolicyBundle, requests: readonly DecisionRequest[], runs: number): void {
  it(`${name}: generated and general paths decide ${runs} random call sequences alike`, async () => {
    const { fast, general } = engines(bundle);
    let at = AT;
    let ruled = 0;
    let total = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: 20 }), async (calls) => {
        for (const c of calls) {
          const base = requests[c.base % requests.length] as DecisionRequest;
          at += c.gapMs;
          const environment = c.environment < ENVIRONMENTS.length ? ENVIRONMENTS[c.environment] : base.environment;
          const request = {
            ...base,
            environment,
            args: mutate(base.args ?? {}, c.change),
            at,
            ...(c.other === 'role' ? { role: 'constructor' } : c.other === 'tool' ? { tool: (requests[(c.base + 7) % requests.length] as DecisionRequest).tool } : {}),
            ...(c.other === 'agent' ? { agent: 'bot-"`${x}`' } : {}),
          } as DecisionRequest;
          if (request.environment === undefined) delete request.environment;
          const decided = fast.decideSync(request);
          expectSame(decided, general.decideSync(request), request);
          expectSame(fast.evaluatePolicy(request), general.evaluatePolicy(request), request);
          expectSame(fast.statelessDecision(request), general.statelessDecision(request), request);
          expectSame(await fast.decide(request), await general.decide(request), request);
          total++;
          if (decided.decidedBy === 'rule' || decided.decidedBy === 'default') ruled++;
        }
      }),
      { numRuns: runs },
    );
    // The generated functions decided a good share of the mix (by a rule or the default), so the
    // comparison above is not mostly refusals. Over 40 seeds the seed policies' share was
    // 0.293-0.336 (a bound of 0.3 failed one run in ten); a broken generator or mutation gives ~0.
    expect(ruled / total).toBeGreaterThan(0.2);
  });
}

describe('generated decision functions decide exactly as the general path', () => {
  differential('seed policies', loadBundle('examples/policies'), seedRequests('examples/policies'), 300);
  differential('hardened seed policies', loadBundle('examples/policies-hardened'), seedRequests('examples/policies-hardened'), 200);

  it('are generated for the seed policies\' plans (so the differential above compares two paths)', () => {
    const bundle = loadBundle('examples/policies');
    const index = compileBundle(bundle).index;
    const covered: string[] = [];
    for (const [role, byEnvironment] of index) {
      for (const [environment, tools] of byEnvironment) {
        for (const [tool, plans] of tools) {
          if (plans.length === 1 && generateDecisionFunction(plans[0]!, { bundle: 'b', version: 1, policies: [] })) covered.push(`${role}/${environment}/${tool}`);
        }
      }
    }
    for (const expected of ['support/production/issue_refund', 'finance/production/make_payment', 'devops/production/delete_resource']) {
      expect(covered).toContain(expected);
    }
  });
});

describe('lists a generated decision shares', () => {
  it('are frozen, so no caller can change what later decisions report', () => {
    // A policy without limits: the decision leaves the generated function as it was made.
    const { fast, general } = engines(hostilePolicy());
    const request: DecisionRequest = { agent: 'a', role: 'ops', environment: 'production', tool: 'pay', args: { amount: 20, label: 'ok' }, at: AT };
    const first = fast.decideSync(request);
    expect(first.matched).toHaveLength(1);
    expect(() => first.matched.push({ rule: 'forged', policy: 'forged' })).toThrow(TypeError);
    expect(() => first.limits.push(first.limits[0]!)).toThrow(TypeError);
    expect(() => first.matched.splice(0, 1)).toThrow(TypeError);
    expectSame(fast.decideSync(request), general.decideSync(request), request);
  });
});

const HOSTILE = 'r\'"`${globalThis.__airlockPwned = 1}`\n\u2028\u2029*/ }); globalThis.__airlockPwned = 1; //\\';

/** A policy whose free-text fields (roles, reasons, approver groups, enum values, argument names, CEL string literals) try to inject code. */
function hostilePolicy(): PolicyBundle {
  const document = {
    policy: 'hostile',
    appliesTo: { roles: [HOSTILE, 'ops'] },
    default: 'require_approval',
    riskTiers: { medium: 10, high: 60, critical: 90 },
    tools: {
      pay: {
        args: {
          amount: { type: 'number', minimum: 0 },
          label: { type: 'string', enum: [HOSTILE, 'ok', '${x}'] },
          [`n${HOSTILE}`]: { type: 'string', maxLength: 256 },
        },
        required: ['amount', 'label'],
      },
    },
    rules: [
      { id: 'small', tool: 'pay', when: 'args.amount <= 50', effect: 'allow', reason: HOSTILE },
      { id: 'labelled', tool: 'pay', when: `args.label == ${JSON.stringify(HOSTILE)}`, risk: 20 },
      { id: 'risky', tool: 'pay', when: 'args.amount > 40', risk: 45 },
      {
        id: 'big',
        tool: 'pay',
        when: 'args.amount > 500 && args.amount <= 10000',
        effect: 'require_approval',
        reason: `${HOSTILE} big`,
        approval: { tiers: [{ name: 'lead', when: 'args.amount <= 1000', approvers: [HOSTILE] }, { name: 'boss', approvers: ['b`${1}`'] }] },
      },
      { id: 'huge', tool: 'pay', when: 'args.amount > 10000', effect: 'block', reason: '`' },
    ],
    environments: { dev: { default: 'allow', disable: ['huge'], riskTiers: { medium: 30, high: 64, critical: 100 } } },
  };
  return parseBundle([{ file: 'hostile.yaml', text: JSON.stringify(document) }], 'hostile');
}

describe('generated decision functions with hostile policy text', () => {
  it('compile to a function that echoes every hostile string as data and runs none of it', () => {
    const bundle = hostilePolicy();
    const plan = compileBundle(bundle).index.get(HOSTILE)?.get('production')?.get('pay')?.[0];
    expect(plan).toBeDefined();
    expect(generateDecisionFunction(plan!, { bundle: 'hostile', version: 1, policies: ['hostile'] })).toBeTypeOf('function');
    const { fast, general } = engines(bundle);
    const amounts = [0, 30, 45, 50, 50.01, 500, 700, 1000, 1000.5, 10000, 10001];
    const labels = [HOSTILE, 'ok', '${x}', 'nope'];
    const seen = new Set<string>();
    for (const environment of ['production', 'dev', 'staging']) {
      for (const amount of amounts) {
        for (const label of labels) {
          for (const role of [HOSTILE, 'ops']) {
            const request: DecisionRequest = { agent: 'a', role, environment, tool: 'pay', args: { amount, label, [`n${HOSTILE}`]: HOSTILE }, at: AT };
            const decision = fast.decideSync(request);
            expectSame(decision, general.decideSync(request), request);
            seen.add(`${decision.effect}/${decision.decidedBy}/${decision.reason}/${decision.approval?.tier ?? ''}/${decision.approvers?.join() ?? ''}`);
          }
        }
      }
    }
    expect((globalThis as { __airlockPwned?: unknown }).__airlockPwned).toBeUndefined();
    // The hostile strings came back verbatim, through each kind of outcome.
    expect(seen).toContain(`allow/rule/${HOSTILE}//`);
    expect(seen).toContain(`require_approval/rule/${HOSTILE} big/lead/${HOSTILE}`);
    expect(seen).toContain(`require_approval/rule/${HOSTILE} big/boss/b\`\${1}\``);
    expect(seen).toContain('block/rule/`//');
    expect([...seen].some((s) => s.startsWith('require_approval/risk/Risk score 65 is high (policy hostile)'))).toBe(true);
    expect([...seen].some((s) => s.startsWith('block/risk/'))).toBe(false);
  });

  it('100 concurrent hostile calls through decide() agree with the general path', async () => {
    const { fast, general } = engines(hostilePolicy());
    const requests = Array.from({ length: 100 }, (_, i): DecisionRequest => ({
      agent: `a${i}`,
      role: i % 2 ? HOSTILE : 'ops',
      environment: i % 3 ? 'production' : 'dev',
      tool: 'pay',
      args: i % 5 === 0 ? { amount: `${i}`, label: HOSTILE } : { amount: i * 137.5, label: i % 4 ? HOSTILE : 'ok' },
      at: AT,
    }));
    const [a, b] = await Promise.all([Promise.all(requests.map((r) => fast.decide(r))), Promise.all(requests.map((r) => general.decide(r)))]);
    a.forEach((decision, i) => expectSame(decision, b[i], requests[i]));
    expect(a.filter((d) => d.error?.code === 'invalid_arguments')).toHaveLength(20);
    expect((globalThis as { __airlockPwned?: unknown }).__airlockPwned).toBeUndefined();
  });
});
