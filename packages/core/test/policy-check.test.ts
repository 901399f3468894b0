import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkBundle, checkSources, compile, formatFinding, loadBundle, parseBundle, readPolicySources, regionContains, regionText, type Finding } from '../src/index.js';

const FIXTURES = 'packages/core/test/fixtures/policy-check';
const SEEDS = 'examples/policies';
const EVERY = 'production,staging,dev,*';

const fixture = (name: string) => {
  const sources = [{ file: name, text: readFileSync(join(FIXTURES, name), 'utf8') }];
  return { sources, check: checkSources(sources) };
};

/** code | rule or tool | region | effect | environments: one line that states what a finding claims. */
const summary = (f: Finding): string => [f.code, f.rule ?? f.tool, f.region ? regionText(f.region) : '', f.effect ?? '', f.environments.join(',')].join(' | ');

describe('policy check on fixtures', () => {
  const cases: [string, string[]][] = [
    ['planted-gap.yaml', [`threshold_gap | issue_refund | amount = 50 | block | ${EVERY}`]],
    ['decimal-gap.yaml', [`threshold_gap | issue_refund | amount ∈ (50, 50.01) | block | ${EVERY}`]],
    ['size-gap.yaml', [`threshold_gap | update_records | size(ids) ∈ [2, 99] | block | ${EVERY}`]],
    ['overlap.yaml', [`overlapping_effects | payment-wide | amount ∈ (500, ∞) | block | ${EVERY}`]],
    [
      'unreachable.yaml',
      [
        `unreachable_rule | contradiction |  |  | ${EVERY}`,
        `unreachable_rule | yen |  |  | ${EVERY}`,
        `unreachable_rule | negative |  |  | ${EVERY}`,
        `unreachable_rule | weekend-risk |  |  | ${EVERY}`,
        `unreachable_limit | yen-budget |  |  | ${EVERY}`,
      ],
    ],
    ['shadowed.yaml', [`shadowed_rule | delete-few |  |  | ${EVERY}`, `shadowed_rule | delete-again |  |  | ${EVERY}`]],
    ['bounds.yaml', []],
    [
      'environments.yaml',
      ['uncovered_values | delete_resource | every call | block | staging,*', 'threshold_gap | scale_service | replicas ∈ [11, ∞) | block | staging'],
    ],
    [
      'opaque.yaml',
      [`default_only | get_account |  | block | ${EVERY}`, `not_analysed | ticket-bots | size(subject) ∈ [0, 200] |  | ${EVERY}`],
    ],
  ];

  it('has a case for every fixture', () => {
    expect(cases.map(([name]) => name).sort()).toEqual(readdirSync(FIXTURES).sort());
  });

  it.each(cases)('%s', (name, expected) => {
    const { check } = fixture(name);
    expect(check.errors).toEqual([]);
    expect(check.findings.map(summary)).toEqual(expected);
  });

  it('locates and words a gap: the argument\'s line, the range, an example value, the default', () => {
    const [gap] = fixture('decimal-gap.yaml').check.findings;
    expect(formatFinding(gap as Finding)).toBe(
      'decimal-gap.yaml:8 (tools.issue_refund.args.amount): warning threshold_gap: issue_refund: amount ∈ (50, 50.01) matches no rule of policy decimal-gap: its default (block) decides (e.g. amount = 50.005)',
    );
    expect(gap).toMatchObject({ severity: 'warning', policy: 'decimal-gap', tool: 'issue_refund', roles: ['support'] });
  });

  it('locates rule findings at the rule and names what shadows or overlaps it', () => {
    const overlap = fixture('overlap.yaml').check.findings[0] as Finding;
    expect(overlap).toMatchObject({ line: 11, path: 'rules[1]', rules: ['payment-wide', 'payment-huge'] });
    expect(overlap.message).toBe('make_payment: payment-wide (allow) overlaps payment-huge (block) on amount ∈ (500, ∞): block decides (payment-huge)');
    const shadowed = fixture('shadowed.yaml').check.findings[0] as Finding;
    expect(shadowed).toMatchObject({ line: 11, path: 'rules[1]', rules: ['delete-any'] });
    expect(shadowed.message).toBe('rule delete-few (allow) never decides: wherever it matches, delete-any decides');
  });

  it('names the environments a finding holds in when not all of them', () => {
    const scale = fixture('environments.yaml').check.findings.find((f) => f.tool === 'scale_service') as Finding;
    expect(scale.message).toMatch(/ \[staging\]$/);
    const del = fixture('environments.yaml').check.findings.find((f) => f.tool === 'delete_resource') as Finding;
    expect(del.message).toMatch(/ \[staging, any other environment\]$/);
  });

  // The planted ranges, checked against the real engine: the analysis' gap is the engine's default.
  it.each([
    ['planted-gap.yaml', 'support', 'issue_refund', { amount: 50 }, { effect: 'block', decidedBy: 'default' }],
    ['planted-gap.yaml', 'support', 'issue_refund', { amount: 49.999 }, { effect: 'allow', decidedBy: 'rule' }],
    ['decimal-gap.yaml', 'support', 'issue_refund', { amount: 50.005, currency: 'USD' }, { effect: 'block', decidedBy: 'default' }],
    ['size-gap.yaml', 'workflow', 'update_records', { ids: ['a', 'b'] }, { effect: 'block', decidedBy: 'default' }],
    ['overlap.yaml', 'finance', 'make_payment', { amount: 501 }, { effect: 'block', decidedBy: 'rule' }],
  ] as const)('%s: %s %s %j is decided as the coverage says', (name, role, tool, args, expected) => {
    const { sources, check } = fixture(name);
    const decision = compile(parseBundle(sources)).decideSync({ agent: 'a', role, tool, args });
    expect(decision).toMatchObject(expected);
    const coverage = check.coverage.find((c) => c.role === role && c.tool === tool && c.environments.includes('production'));
    const regions = (coverage?.regions ?? []).filter((r) => regionContains(r.region, args));
    expect(regions).toHaveLength(1);
    expect(regions[0]?.status).toBe(expected.decidedBy === 'default' ? 'gap' : 'covered');
    expect(regions[0]?.decision).toMatchObject({ effect: decision.effect, rule: decision.rule });
  });
});

describe('conditions the analysis reads', () => {
  const policy = (args: string, rules: string[], required = ''): string =>
    `policy: p\nappliesTo: { roles: [r] }\ntools:\n  t:\n    args:\n${args}\n${required}rules:\n${rules.map((r) => `  - ${r}`).join('\n')}\n`;
  const coverage = (sources: { file: string; text: string }[]): string[] => {
    const check = checkSources(sources);
    expect(check.errors).toEqual([]);
    return check.coverage.flatMap((c) => (c.regions ?? []).map((r) => `${r.status} ${r.text} → ${r.decision?.effect ?? '?'}`));
  };
  it.each([
    [
      'a nested field of a closed object',
      policy('      meta: { type: object, properties: { count: { type: integer, minimum: 0 } } }', [
        '{ id: a, tool: t, when: args.meta.count < 5, effect: allow }',
        '{ id: b, tool: t, when: args.meta.count > 5, effect: block }',
      ]),
      ['covered meta.count ∈ [0, 4] → allow', 'gap meta.count = 5 → block', 'covered meta.count ∈ [6, ∞) → block'],
    ],
    [
      'index syntax and a negative literal on the left',
      policy('      amount: { type: number }', [`{ id: a, tool: t, when: 'args["amount"] >= -5', effect: allow }`, '{ id: b, tool: t, when: -5 > args.amount, effect: block }']),
      ['covered amount ∈ (-∞, -5) → block', 'covered amount ∈ [-5, ∞) → allow'],
    ],
    [
      'size() as a method, bounded by maxItems',
      policy('      ids: { type: array, items: { type: string }, maxItems: 10 }', ['{ id: a, tool: t, when: args.ids.size() <= 3, effect: allow }']),
      ['covered size(ids) ∈ [0, 3] → allow', 'gap size(ids) ∈ [4, 10] → block'],
    ],
    [
      'a bare boolean and its negation',
      policy('      urgent: { type: boolean }', ['{ id: a, tool: t, when: args.urgent, effect: require_approval }', '{ id: b, tool: t, when: "!args.urgent", effect: allow }']),
      ['covered urgent = true → require_approval', 'covered urgent = false → allow'],
    ],
    [
      'an open string: literals the schema rejects are dropped, the rest is "any other value"',
      policy('      region: { type: string, minLength: 2 }', [`{ id: a, tool: t, when: 'args.region in ["eu", "us", "x"]', effect: allow }`]),
      ['covered region ∈ {"eu", "us"} → allow', 'gap region ∉ {"eu", "us"} → block'],
    ],
    [
      'has() on an optional argument',
      policy('      note: { type: string }', ['{ id: a, tool: t, when: has(args.note), effect: allow }'], '    required: []\n'),
      ['covered note present → allow', 'gap note absent → block'],
    ],
    [
      'an integer threshold between two integers is no gap',
      policy('      n: { type: integer }', ['{ id: a, tool: t, when: args.n < 10, effect: allow }', '{ id: b, tool: t, when: args.n > 9.5, effect: block }']),
      ['covered n ∈ (-∞, 9] → allow', 'covered n ∈ [10, ∞) → block'],
    ],
  ])('%s', (_name, text, expected) => {
    expect(coverage([{ file: 'p.yaml', text }])).toEqual(expected);
  });

  it('two policies for one role: their schemas intersect, and a tie is not shadowing', () => {
    const sources = [
      { file: 'a.yaml', text: 'policy: a\nappliesTo: { roles: [r] }\ntools:\n  t:\n    args:\n      amount: { type: number, minimum: 0 }\nrules:\n  - { id: a1, tool: t, when: args.amount <= 100, effect: allow }\n' },
      { file: 'b.yaml', text: 'policy: b\nappliesTo: { roles: [r] }\ntools:\n  t:\n    args:\n      amount: { type: number, maximum: 100 }\nrules:\n  - { id: b1, tool: t, when: args.amount >= 0, effect: allow }\n' },
    ];
    expect(coverage(sources)).toEqual(['covered every call → allow']);
    expect(checkSources(sources).findings).toEqual([]);
  });
});

describe('policy check reports load errors as the loader does', () => {
  const policy = (rule: string, extra = ''): string =>
    `policy: p\nappliesTo: { roles: [r] }\ntools:\n  refund:\n    args:\n      amount: { type: number, minimum: 0 }\nrules:\n  - ${rule}\n${extra}`;
  it.each([
    ['a CEL type error', policy('{ id: a, tool: refund, when: args.amount <= "fifty", effect: allow }'), { code: 'cel_type', line: 8, path: 'rules[0].when' }],
    ['a misspelt argument', policy('{ id: a, tool: refund, when: args.ammount <= 50, effect: allow }'), { code: 'cel_type', line: 8 }],
    ['a glob matching no declared tool', policy('{ id: a, tool: "get_*", effect: allow }'), { code: 'unknown_tool_reference', line: 8 }],
    ['an unknown key', policy('{ id: a, tool: refund, effect: allow, efect: block }'), { code: 'invalid_policy', line: 8 }],
    ['a YAML error', 'policy: p\nappliesTo: { roles: [r\n', { code: 'yaml_syntax' }],
    ['a bad argument schema', policy('{ id: a, tool: refund, effect: allow }').replace('type: number', 'type: nummber'), { code: 'invalid_args_schema' }],
  ])('%s', (_name, text, expected) => {
    const check = checkSources([{ file: 'p.yaml', text }]);
    expect(check.errors).toContainEqual(expect.objectContaining({ file: 'p.yaml', ...expected }));
    expect(check.findings).toEqual([]);
    expect(check.coverage).toEqual([]);
  });
});

describe('policy check on the seed policies', () => {
  const seeds = readPolicySources(SEEDS);

  it.each(seeds.map((s) => [s.file, s] as const))('%s has no findings', (_file, source) => {
    const check = checkSources([source]);
    expect(check.errors).toEqual([]);
    expect(check.findings.map((f) => formatFinding(f))).toEqual([]);
  });

  it('the bundle has no findings, and every region of every tool is covered by a rule', () => {
    expect(bundleCheck.findings).toEqual([]);
    const regions = bundleCheck.coverage.flatMap((c) => c.regions ?? []);
    expect(regions.length).toBeGreaterThan(20);
    expect(regions.filter((r) => r.status !== 'covered' || r.decision?.decidedBy !== 'rule')).toEqual([]);
  });

  const bundleCheck = checkBundle(loadBundle(SEEDS));
  const at = (role: string, tool: string) => {
    const entries = bundleCheck.coverage.filter((c) => c.role === role && c.tool === tool);
    expect(entries).toHaveLength(1);
    expect(entries[0]?.environments).toEqual(['production', 'staging', 'dev', '*']);
    return (entries[0]?.regions ?? []).map((r) => `${r.text} → ${r.decision?.effect} by ${r.decision?.rule}`);
  };

  it.each([
    // The SaaS "update 2–99 records" case: covered explicitly by update-few, from 1 id up to 99.
    ['workflow', 'update_records', ['size(ids) ∈ [1, 99] → allow by update-few', 'size(ids) ∈ [100, ∞) → require_approval by update-bulk']],
    ['workflow', 'delete_records', ['size(ids) ∈ [1, 99] → require_approval by delete-few', 'size(ids) ∈ [100, ∞) → block by delete-bulk']],
    ['support', 'issue_refund', ['amount ∈ [0, 50] → allow by refund-small', 'amount ∈ (50, 500] → require_approval by refund-medium', 'amount ∈ (500, ∞) → block by refund-large']],
    ['finance', 'make_payment', ['amount ∈ [0, 1000) → allow by payment-small', 'amount ∈ [1000, 25000] → require_approval by payment-medium', 'amount ∈ (25000, ∞) → block by payment-large']],
    [
      'finance',
      'transfer_funds',
      [
        'amount ∈ [0, 10000) and destination = "internal" → allow by transfer-internal-small',
        'destination = "external" → require_approval by transfer-external',
        'amount ∈ [10000, ∞) and destination = "internal" → require_approval by transfer-internal-large',
      ],
    ],
    ['devops', 'scale_service', ['environment ∈ {"dev", "staging"} → allow by scale-non-production', 'environment = "production" → require_approval by scale-production']],
  ] as const)('%s %s is covered as the DESIGN.md table says', (role, tool, expected) => {
    expect(at(role, tool)).toEqual(expected);
  });
});

describe('the analysis budget of a bundle', () => {
  /** One policy whose 60 rules on every tool split three integer arguments into ~69,000 cells a tool. */
  const heavy = (tools: number): string => {
    let text = 'policy: p\nappliesTo: {roles: [support]}\ntools:\n';
    for (let i = 0; i < tools; i++) text += `  t${i}: {args: {a: {type: integer, minimum: 0, maximum: 1000}, b: {type: integer, minimum: 0, maximum: 1000}, c: {type: integer, minimum: 0, maximum: 1000}}}\n`;
    text += 'rules:\n';
    let n = 0;
    for (const arg of ['a', 'b', 'c']) for (let k = 1; k <= 20; k++) text += `  - {id: r${n++}, tool: '*', when: 'args.${arg} > ${k * 7}', effect: ${k % 2 ? 'allow' : 'block'}}\n`;
    return text;
  };

  it('reports the tools past it as not analysed instead of enumerating them (each under the per-tool cap)', () => {
    const { findings } = checkSources([{ file: 'p.yaml', text: heavy(3) }]);
    const limited = findings.filter((f) => f.code === 'analysis_limit');
    // Every tool, in the one slice the role has, is over the budget alone: none is enumerated.
    expect(limited.map((f) => f.tool).sort()).toEqual(['t0', 't1', 't2']);
    for (const finding of limited) expect(finding.message).toContain("the bundle's analysis budget");
  });

  it('analyses a bundle within it whole (the seeds use under 1,000 of its 300,000 units)', () => {
    expect(checkSources(readPolicySources(SEEDS)).findings.filter((f) => f.code === 'analysis_limit')).toEqual([]);
  });
});
