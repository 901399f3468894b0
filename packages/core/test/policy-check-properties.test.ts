import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSources, compile, parseBundle, regionContains, type Decision, type PolicyCheck } from '../src/index.js';

/**
 * The analysis is only worth trusting if it agrees with the engine. For random policies (numeric
 * thresholds on both sides, enums, an optional argument whose absence makes conditions fail,
 * conditions the analysis cannot read, several policies for one role, environment overrides,
 * risk scores) and random calls, the region the analysis puts a call in must predict what the
 * real engine decides: a gap is decided by a default (or a risk tier over it), a covered region
 * never by a default, and a certain decision is the engine's decision exactly. Rules reported as
 * unreachable never match; rules reported as shadowed never decide.
 */

const ROLE = 'r';
const ENVIRONMENTS = ['production', 'dev', 'qa', 'staging'] as const;
const EFFECTS = ['allow', 'require_approval', 'block'] as const;
const CUTS = [0, 10, 10.5, 20, 50, 50.01, 100];

interface Shape {
  integer: boolean;
  minimum: number | undefined;
  exclusiveMinimum: number | undefined;
  maximum: number | undefined;
}

const shape = fc.record({
  integer: fc.boolean(),
  minimum: fc.option(fc.constantFrom(0, 10), { nil: undefined }),
  exclusiveMinimum: fc.option(fc.constantFrom(0, 20), { nil: undefined }),
  maximum: fc.option(fc.constantFrom(50, 100), { nil: undefined }),
});

/** A numeric literal CEL accepts against the argument's type (`==` needs `50.0` for a double). */
const literal = (value: number, s: Shape): string => (s.integer || !Number.isInteger(value) ? String(value) : `${value}.0`);

function condition(s: Shape): fc.Arbitrary<string> {
  const cut = fc.constantFrom(...CUTS.filter((c) => !s.integer || Number.isInteger(c)));
  const anyCut = fc.constantFrom(...CUTS);
  const op = fc.constantFrom('<', '<=', '>', '>=');
  const atom = fc.oneof(
    fc.tuple(op, anyCut).map(([o, c]) => `args.amount ${o} ${c}`),
    fc.tuple(op, anyCut).map(([o, c]) => `${c} ${o} args.amount`),
    cut.map((c) => `args.amount == ${literal(c, s)}`),
    cut.map((c) => `args.amount != ${literal(c, s)}`),
    fc.tuple(cut, cut).map(([a, b]) => `args.amount in [${literal(a, s)}, ${literal(b, s)}]`),
    fc.constantFrom('args.kind == "a"', 'args.kind != "b"', 'args.kind in ["a", "c"]', 'args.kind == "zzz"'),
    fc.constantFrom('has(args.note)', 'args.note == "x"', 'args.note != "x"'),
    fc.constantFrom('environment == "dev"', 'environment in ["qa", "staging"]', 'role == "r"', 'tool == "t"'),
    // Not analysed: the analysis must say so rather than guess.
    fc.constantFrom('agent == "bot"', s.integer ? 'args.amount * 2 > 30' : 'args.amount * 2.0 > 30.0', 'args.kind.startsWith("a")'),
    fc.constantFrom('true', 'false'),
  );
  const tree: fc.Arbitrary<string> = fc.letrec<{ node: string }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      atom,
      fc.tuple(tie('node'), fc.constantFrom('&&', '||'), tie('node')).map(([a, o, b]) => `(${a} ${o} ${b})`),
      tie('node').map((a) => `!(${a})`),
    ),
  })).node;
  return tree;
}

interface RuleSpec {
  when: string | undefined;
  effect: (typeof EFFECTS)[number] | undefined;
  risk: number | undefined;
}

const rule = (s: Shape): fc.Arbitrary<RuleSpec> =>
  fc
    .record({
      when: fc.option(condition(s), { nil: undefined, freq: 6 }),
      effect: fc.option(fc.constantFrom(...EFFECTS), { nil: undefined, freq: 6 }),
      risk: fc.option(fc.constantFrom(10, 30, 50, 90), { nil: undefined, freq: 2 }),
    })
    .map((r) => (r.effect === undefined && r.risk === undefined ? { ...r, effect: 'allow' as const } : r));

/** `drop`: rules whose effect is taken out (a rule left with no risk is left out entirely). */
function ruleYaml(id: string, r: RuleSpec, indent: string, drop: ReadonlySet<string>): string {
  if (drop.has(id) && r.risk === undefined) return '';
  const fields = [`id: ${id}`, 'tool: t'];
  if (r.when !== undefined) fields.push(`when: ${JSON.stringify(r.when)}`);
  if (r.effect && !drop.has(id)) fields.push(`effect: ${r.effect}`);
  if (r.risk !== undefined) fields.push(`risk: ${r.risk}`);
  return `${indent}- { ${fields.join(', ')} }\n`;
}

function schemaYaml(s: Shape): string {
  const parts = [`type: ${s.integer ? 'integer' : 'number'}`];
  if (s.minimum !== undefined) parts.push(`minimum: ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) parts.push(`exclusiveMinimum: ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined) parts.push(`maximum: ${s.maximum}`);
  return `{ ${parts.join(', ')} }`;
}

const policySpec = (s: Shape) =>
  fc.record({
    default: fc.constantFrom(...EFFECTS),
    rules: fc.array(rule(s), { minLength: 0, maxLength: 5 }),
    dev: fc.option(
      fc.record({ default: fc.option(fc.constantFrom(...EFFECTS), { nil: undefined }), disableFirst: fc.boolean(), extra: fc.option(rule(s), { nil: undefined }) }),
      { nil: undefined },
    ),
  });

type PolicySpec = ReturnType<typeof policySpec> extends fc.Arbitrary<infer T> ? T : never;

function policyYaml(name: string, s: Shape, spec: PolicySpec, drop: ReadonlySet<string> = new Set()): string {
  let text = `policy: ${name}\nappliesTo: { roles: [${ROLE}] }\ndefault: ${spec.default}\ntools:\n  t:\n    args:\n`;
  text += `      amount: ${schemaYaml(s)}\n      kind: { type: string, enum: [a, b, c] }\n      note: { type: string }\n    required: [amount, kind]\n`;
  text += 'rules:\n';
  spec.rules.forEach((r, i) => (text += ruleYaml(`${name}-r${i}`, r, '  ', drop)));
  if (text.endsWith('rules:\n')) text = text.replace(/rules:\n$/, 'rules: []\n');
  if (spec.dev) {
    text += 'environments:\n  dev:\n    disable: []\n';
    if (spec.dev.default) text += `    default: ${spec.dev.default}\n`;
    if (spec.dev.disableFirst && spec.rules.length > 0 && !(drop.has(`${name}-r0`) && spec.rules[0]?.risk === undefined)) text = text.replace('    disable: []\n', `    disable: [${name}-r0]\n`);
    const extra = spec.dev.extra ? ruleYaml(`${name}-dev`, spec.dev.extra, '      ', drop) : '';
    if (extra) text += `    rules:\n${extra}`;
  }
  return text;
}

const call = fc.record({
  amount: fc.oneof(
    fc.constantFrom(...CUTS),
    fc.constantFrom(...CUTS),
    fc.tuple(fc.constantFrom(...CUTS), fc.constantFrom(-1, -0.5, -0.001, 0.001, 0.005, 0.5, 1)).map(([c, d]) => c + d),
    fc.double({ min: -10, max: 120, noNaN: true }),
    fc.integer({ min: -10, max: 120 }),
  ),
  kind: fc.constantFrom('a', 'b', 'c'),
  note: fc.constantFrom(undefined, 'x', 'y'),
  agent: fc.constantFrom('bot', 'other'),
  environment: fc.constantFrom(...ENVIRONMENTS),
});

function coverageFor(check: PolicyCheck, environment: string) {
  const entries = check.coverage.filter((c) => c.role === ROLE && c.tool === 't');
  return entries.find((c) => c.environments.includes(environment)) ?? entries.find((c) => c.environments.includes('*'));
}

describe('policy check agrees with the engine', () => {
  it('for random policies and calls', () => {
    const scenario = shape.chain((s) =>
      fc.record({ shape: fc.constant(s), policies: fc.array(policySpec(s), { minLength: 1, maxLength: 2 }), calls: fc.array(call, { minLength: 20, maxLength: 60 }) }),
    );
    let valid = 0;
    let withShadowed = 0;
    let withUnreachable = 0;
    let decided = 0;
    let gaps = 0;
    fc.assert(
      fc.property(scenario, ({ shape: s, policies, calls }) => {
        const sources = policies.map((spec, i) => ({ file: `p${i}.yaml`, text: policyYaml(`p${i}`, s, spec) }));
        const check = checkSources(sources);
        expect(check.errors, sources.map((x) => x.text).join('\n---\n')).toEqual([]);
        const engine = compile(parseBundle(sources));
        const unreachable = new Set(check.findings.filter((f) => f.code === 'unreachable_rule').map((f) => f.rule));
        const shadowed = new Set(check.findings.filter((f) => f.code === 'shadowed_rule').map((f) => f.rule as string));
        // A shadowed rule's effect is redundant: the policy without it decides every call the same way.
        if (shadowed.size > 0) withShadowed++;
        if (unreachable.size > 0) withUnreachable++;
        const without = shadowed.size > 0 ? compile(parseBundle(policies.map((spec, i) => ({ file: `p${i}.yaml`, text: policyYaml(`p${i}`, s, spec, shadowed) })))) : undefined;
        for (const c of calls) {
          const args: Record<string, unknown> = { amount: s.integer ? Math.round(c.amount) : c.amount, kind: c.kind };
          if (c.note !== undefined) args.note = c.note;
          const decision: Decision = engine.decideSync({ agent: c.agent, role: ROLE, environment: c.environment, tool: 't', args });
          if (decision.error?.code === 'invalid_arguments') continue;
          valid++;
          const context = `${sources.map((x) => x.text).join('---\n')}\ncall ${JSON.stringify({ ...c, args })}\ndecision ${JSON.stringify({ effect: decision.effect, rule: decision.rule, decidedBy: decision.decidedBy })}`;
          const coverage = coverageFor(check, c.environment);
          expect(coverage?.regions, context).toBeDefined();
          const containing = (coverage?.regions ?? []).filter((r) => regionContains(r.region, args));
          expect(containing, `exactly one region holds the call\n${context}`).toHaveLength(1);
          const region = containing[0] as NonNullable<(typeof containing)[0]>;
          const where = `${region.status} ${region.text} ${JSON.stringify(region.decision)}\n${context}`;
          if (region.status === 'gap') {
            gaps++;
            expect(['default', 'risk'], where).toContain(decision.decidedBy);
          }
          if (region.status === 'covered') expect(decision.decidedBy, where).not.toBe('default');
          if (region.decision) {
            decided++;
            expect({ effect: decision.effect, decidedBy: decision.decidedBy, rule: decision.rule }, where).toEqual({
              effect: region.decision.effect,
              decidedBy: region.decision.decidedBy,
              rule: region.decision.rule,
            });
          }
          for (const m of decision.matched) expect(unreachable.has(m.rule), `${m.rule} was reported unreachable\n${context}`).toBe(false);
          if (decision.rule) expect(shadowed.has(decision.rule), `${decision.rule} was reported shadowed\n${context}`).toBe(false);
          if (without) {
            const other = without.decideSync({ agent: c.agent, role: ROLE, environment: c.environment, tool: 't', args });
            const pick = (d: Decision) => ({ effect: d.effect, rule: d.rule, decidedBy: d.decidedBy });
            expect(pick(other), `without the shadowed rules ${[...shadowed].join(', ')}\n${context}`).toEqual(pick(decision));
          }
        }
      }),
      { numRuns: 150 },
    );
    // The property must have been exercised, not vacuously satisfied.
    console.log(`policy check property: ${valid} valid calls, ${decided} with a certain decision, ${gaps} in gaps; ${withShadowed} scenarios with shadowed rules, ${withUnreachable} with unreachable ones`);
    expect(decided).toBeGreaterThan(valid / 3);
    expect(gaps).toBeGreaterThan(50);
    expect(withShadowed).toBeGreaterThan(5);
    expect(withUnreachable).toBeGreaterThan(5);
  });
});
