import { describe, expect, it } from 'vitest';
import { compile, loadBundle, parseBundle, PolicyLoadError, type Decision, type EngineOptions, type LoadError } from '../src/index.js';
import { compileBundle } from '../src/engine/compile-bundle.js';

/**
 * Bounded evaluation (issue 18): a CEL expression's worst-case cost is estimated from the tool's
 * argument schema at load, and a decision's actual spend is metered, so neither a policy nor an
 * agent's arguments can hold the event loop.
 */

interface Options {
  when: string;
  /** Extra argument schemas, YAML flow maps keyed by name. */
  args?: Record<string, string>;
  evaluation?: string;
}

function policy({ when, args = {}, evaluation }: Options): string {
  const declared = { xs: '{ type: array, items: { type: integer } }', ...args };
  return [
    'policy: p',
    'appliesTo: { roles: [r] }',
    'default: allow',
    ...(evaluation ? [`evaluation: ${evaluation}`] : []),
    'tools:',
    '  t:',
    '    args:',
    ...Object.entries(declared).map(([name, schema]) => `      ${name}: ${schema}`),
    'rules:',
    '  - id: guarded',
    '    tool: t',
    `    when: ${JSON.stringify(when)}`,
    '    effect: block',
    '',
  ].join('\n');
}

function errorsOf(text: string): LoadError[] {
  try {
    compile(parseBundle([{ file: 'p.yaml', text }]));
    return [];
  } catch (error) {
    if (PolicyLoadError.isInstance(error)) return [...error.errors];
    throw error;
  }
}

const engineOf = (text: string, options?: EngineOptions) => compile(parseBundle([{ file: 'p.yaml', text }]), options);
const call = (args: Record<string, unknown>) => ({ agent: 'a', role: 'r', tool: 't', args });
const BOMB = 'args.xs.all(a, args.xs.all(b, args.xs.all(c, args.xs.all(d, a + b + c + d >= 0))))';

function timed(decide: () => Decision): { decision: Decision; ms: number } {
  const started = performance.now();
  const decision = decide();
  return { decision, ms: performance.now() - started };
}

describe('static cost estimate at load', () => {
  it('refuses four nested comprehensions over a list without maxItems, with the estimate and the budget', () => {
    const errors = errorsOf(policy({ when: BOMB }));
    expect(errors).toHaveLength(1);
    // 524,288 elements (1 MiB / 2) to the fourth power.
    expect(errors[0]).toMatchObject({ code: 'cel_cost_exceeded', file: 'p.yaml', line: 11, path: 'rules[0].when' });
    expect(errors[0]?.message).toMatch(/^rule 'guarded': .* has an estimated cost of 7\.6e\+22, over the per-expression budget of 100,000 \(tool 't'\)/);
  });

  it('still refuses it over a 100-element list (the outside tester’s 7.7 s decision)', () => {
    const errors = errorsOf(policy({ when: BOMB, args: { xs: '{ type: array, maxItems: 100, items: { type: integer } }' } }));
    expect(errors[0]?.message).toContain('estimated cost of 101,010,100,');
  });

  it('accepts a bounded comprehension, and counts nested ones by multiplying their sizes', () => {
    const bounded = '{ type: array, maxItems: 300, items: { type: integer } }';
    expect(errorsOf(policy({ when: 'args.xs.all(a, args.xs.exists(b, a == b))', args: { xs: bounded } }))).toEqual([]);
    // 300 × (1 + 300 × (1 + 300)) = 27,090,300 once more nested.
    const errors = errorsOf(policy({ when: 'args.xs.all(a, args.xs.all(b, args.xs.exists(c, a == c)))', args: { xs: bounded } }));
    expect(errors[0]?.message).toContain('estimated cost of 27,090,300,');
  });

  it('counts string work by length: an unbounded string costs what 1 MiB would', () => {
    expect(errorsOf(policy({ when: 'args.s.contains("x")', args: { s: '{ type: string }' } }))).toEqual([]);
    const matches = errorsOf(policy({ when: 'args.s.matches("^[a-z]+@example\\\\.com$")', args: { s: '{ type: string }' } }));
    expect(matches[0]).toMatchObject({ code: 'cel_cost_exceeded', path: 'rules[0].when' });
    expect(errorsOf(policy({ when: 'args.s.matches("^[a-z]+@example\\\\.com$")', args: { s: '{ type: string, maxLength: 254 }' } }))).toEqual([]);
  });

  it('sums a call’s expressions against the per-decision budget', () => {
    const text = `${policy({ when: 'args.xs.exists(x, x == 1)', args: { xs: '{ type: array, maxItems: 60000, items: { type: integer } }' } })}  - id: second
    tool: t
    when: args.xs.exists(x, x == 2)
    effect: block
`;
    const errors = errorsOf(text);
    expect(errors.map((e) => [e.code, e.path, e.line])).toEqual([['cel_cost_exceeded', 'tools.t', 6]]);
    expect(errors[0]?.message).toContain("estimated evaluation cost of 120,000, over the per-decision budget of 100,000 (most expensive: 'guarded' 60,000, 'second' 60,000)");
  });

  it('takes budgets from the policy’s evaluation block, both ways', () => {
    const bounded = { xs: '{ type: array, maxItems: 1000, items: { type: integer } }' };
    const pair = 'args.xs.all(a, args.xs.exists(b, a == b))'; // 1,001,000
    expect(errorsOf(policy({ when: pair, args: bounded }))[0]?.code).toBe('cel_cost_exceeded');
    expect(errorsOf(policy({ when: pair, args: bounded, evaluation: '{ maxExpressionCost: 2000000, maxDecisionCost: 2000000 }' }))).toEqual([]);
    const lowered = errorsOf(policy({ when: 'args.xs.exists(x, x == 1)', args: bounded, evaluation: '{ maxExpressionCost: 500 }' }));
    expect(lowered[0]?.message).toContain('estimated cost of 1,000, over the per-expression budget of 500');
    expect(errorsOf(policy({ when: 'true', evaluation: '{ maxExpressionCost: 0 }' }))[0]?.code).toBe('invalid_policy');
    // A policy cannot grant itself more than the ceiling (a hundred times the default).
    for (const evaluation of ['{ maxExpressionCost: 10000001 }', '{ maxDecisionCost: 1000000000000 }']) {
      expect(errorsOf(policy({ when: 'true', evaluation }))[0]).toMatchObject({ code: 'invalid_policy', path: expect.stringMatching(/^evaluation\.max/) });
    }
    expect(errorsOf(policy({ when: 'true', evaluation: '{ maxExpressionCost: 10000000, maxDecisionCost: 10000000 }' }))).toEqual([]);
  });

  it('runs the seed policies without a meter: thresholds and comparisons charge nothing (the hot path)', () => {
    for (const dir of ['examples/policies', 'examples/policies-hardened']) {
      const plans = [...compileBundle(loadBundle(dir)).index.values()].flatMap((byEnvironment) => [...byEnvironment.values()].flatMap((byTool) => [...byTool.values()].flat()));
      expect(plans.length).toBeGreaterThan(10);
      expect(plans.filter((plan) => plan.metered).map((plan) => `${plan.policy} ${plan.tool}`)).toEqual([]);
    }
    const metered = compileBundle(parseBundle([{ file: 'p.yaml', text: policy({ when: 'args.xs.exists(x, x == 1)', args: { xs: '{ type: array, maxItems: 10, items: { type: integer } }' } }) }]));
    expect(metered.index.get('r')?.get('*')?.get('t')?.[0]?.metered).toBe(true);
  });
});

describe('RE2 patterns at load', () => {
  it.each([
    ['a backreference', '(a)\\\\1'],
    ['a lookahead', 'x(?=y)'],
  ])('refuses %s with a coded error naming the rule, file and line', (_what, pattern) => {
    const errors = errorsOf(policy({ when: `args.s.matches("${pattern}")`, args: { s: '{ type: string, maxLength: 100 }' } }));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'cel_unsupported', file: 'p.yaml', line: 12, path: 'rules[0].when' });
    expect(errors[0]?.message).toMatch(/^rule 'guarded': invalid regular expression for matches\(\) \(RE2 syntax\)/);
  });
});

describe('runtime meter', () => {
  // The estimate is raised to the ceiling (the bomb over 40 elements is estimated at ~2.6 million):
  // the engine's budget still holds.
  const permissive = '{ maxExpressionCost: 10000000, maxDecisionCost: 10000000 }';
  const forty = { xs: '{ type: array, maxItems: 40, items: { type: integer } }' };

  it('stops a decision that spends past its budget with evaluation_limit, within milliseconds', () => {
    const engine = engineOf(policy({ when: BOMB, args: forty, evaluation: permissive }), { evaluationBudget: 100_000 });
    const xs = Array.from({ length: 40 }, (_, i) => i);
    engine.decideSync(call({ xs: [1] }));
    const { decision, ms } = timed(() => engine.decideSync(call({ xs })));
    expect(decision.effect).toBe('block');
    expect(decision.decidedBy).toBe('error');
    expect(decision.error?.code).toBe('evaluation_limit');
    expect(decision.error?.message).toContain('budget of 100000 cost units');
    expect(ms).toBeLessThan(1000); // unmetered: 40^4 = 2.56 million iterations
    // Small data under the same policy still decides normally.
    expect(engine.decideSync(call({ xs: [1, 2] })).effect).toBe('block');
    expect(engine.decideSync(call({ xs: [] })).error).toBeUndefined();
  });

  it('is not absorbed by || or &&, and stops limits and async decisions too', async () => {
    const engine = engineOf(policy({ when: `(${BOMB}) || true`, args: forty, evaluation: permissive }), { evaluationBudget: 10_000 });
    const xs = Array.from({ length: 40 }, (_, i) => i);
    expect(engine.decideSync(call({ xs })).error?.code).toBe('evaluation_limit');
    expect((await engine.decide(call({ xs }))).error?.code).toBe('evaluation_limit');
    expect(engine.evaluatePolicy(call({ xs })).error?.code).toBe('evaluation_limit');
  });

  it('charges a pattern only known at decision time its real weight before running it', () => {
    // The estimate assumes an ordinary pattern (64 program units per pattern character): this
    // policy is accepted under the default budgets…
    const text = policy({ when: 'args.s.matches(args.p)', args: { s: '{ type: string, maxLength: 2000 }', p: '{ type: string, maxLength: 8 }' } });
    expect(errorsOf(text)).toEqual([]);
    const engine = engineOf(text);
    const subject = 'a'.repeat(2000);
    expect(engine.decideSync(call({ xs: [], s: subject, p: '^(a+)+$' })).effect).toBe('block');
    // … but `\pL{999}` compiles to ~680,000 units of program: RE2 takes ~300 ms on this subject.
    const { decision, ms } = timed(() => engine.decideSync(call({ xs: [], s: subject, p: '\\pL{999}' })));
    expect(decision.error?.code).toBe('evaluation_limit');
    expect(ms).toBeLessThan(1000);
    // A pattern RE2 rejects is a condition error, as CEL says.
    expect(engine.decideSync(call({ xs: [], s: 'aa', p: '(a)\\1' })).error?.code).toBe('condition_error');
  });

  it('decides a catastrophic-backtracking pattern over a 100,000-character argument without backtracking (a hang bound, not a speed target)', () => {
    const engine = engineOf(policy({ when: 'args.s.matches("^(a+)+$")', args: { s: '{ type: string, maxLength: 100000 }' } }));
    engine.decideSync(call({ xs: [], s: 'aab' }));
    for (const [s, effect] of [[`${'a'.repeat(99_999)}b`, 'allow'], ['a'.repeat(100_000), 'block']] as const) {
      const { decision, ms } = timed(() => engine.decideSync(call({ xs: [], s })));
      expect(decision.effect).toBe(effect);
      expect(decision.error).toBeUndefined();
      expect(ms).toBeLessThan(1000);
    }
  });

  it('meters each of 100 concurrent decisions on its own', async () => {
    const engine = engineOf(policy({ when: BOMB, args: forty, evaluation: permissive }), { evaluationBudget: 100_000 });
    const big = Array.from({ length: 40 }, (_, i) => i);
    const decisions = await Promise.all(Array.from({ length: 100 }, (_, i) => engine.decide(call({ xs: i % 2 === 0 ? big : [1, 2, 3] }))));
    decisions.forEach((decision, i) => {
      if (i % 2 === 0) expect(decision.error?.code).toBe('evaluation_limit');
      else expect(decision).toMatchObject({ effect: 'block', rule: 'guarded' });
    });
  });
});
