import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile, loadBundle, parseBundle, readPolicySources, scopeSources, type DecisionRequest } from '../src/index.js';

const OVERRIDES = `
policy: ops
appliesTo: { roles: [devops, sre] }
tools:
  scale:
    args: { replicas: { type: integer, minimum: 0 } }
rules:
  - id: scale-some
    tool: scale
    when: args.replicas <= 10
    effect: allow
environments:
  staging:
    rules:
      - id: staging-secret-rule
        tool: scale
        effect: allow
  production:
    disable: [scale-some]
    default: block
---
# a second document in the same file, for another role
policy: pay
appliesTo: { roles: [finance] }
tools:
  pay: { args: { amount: { type: number } } }
rules:
  - { id: pay-small, tool: pay, when: args.amount < 10, effect: allow }
`;

describe('scopeSources', () => {
  it('keeps the role\'s documents only, without other environments\' overrides', () => {
    const [source] = scopeSources([{ file: 'a.yaml', text: OVERRIDES }], 'devops', 'production');
    expect(source?.text).toContain('policy: ops');
    expect(source?.text).toMatch(/production:\s+disable: \[ ?scale-some ?\]/);
    expect(source?.text).not.toContain('staging-secret-rule');
    expect(source?.text).not.toContain('policy: pay');
    expect(scopeSources([{ file: 'a.yaml', text: OVERRIDES }], 'intern', 'production')).toEqual([]);
    const finance = scopeSources([{ file: 'a.yaml', text: OVERRIDES }], 'finance', 'staging');
    expect(finance.map((s) => s.text).join('')).not.toContain('policy: ops');
  });

  it('keeps a document whole when an override is an alias into a removed one (never a different policy)', () => {
    const text = OVERRIDES.replace('  production:\n    disable: [scale-some]\n    default: block', '  production: *st').replace('  staging:\n', '  staging: &st\n');
    const [source] = scopeSources([{ file: 'a.yaml', text }], 'devops', 'production');
    const parsed = parseBundle([source!]).policies[0]!.document;
    expect(parsed.environments.production?.rules.map((r) => r.id)).toEqual(['staging-secret-rule']);
  });

  it('an engine from the scoped bundle decides every seed call of the role exactly as the whole bundle does', () => {
    const whole = compile(loadBundle('examples/policies'));
    const sources = readPolicySources('examples/policies');
    const calls = readFileSync('examples/calls.jsonl', 'utf8').trim().split('\n').filter((line) => line.startsWith('{"')).map((line) => JSON.parse(line) as DecisionRequest).filter((call) => typeof call.role === 'string');
    const scoped = new Map<string, ReturnType<typeof compile> | undefined>();
    const strip = (d: ReturnType<typeof whole.decideSync>) => ({ effect: d.effect, rule: d.rule, reason: d.reason, error: d.error?.code });
    let compared = 0;
    for (const call of calls) {
      const key = `${call.role}/${call.environment ?? 'production'}`;
      if (!scoped.has(key)) {
        const part = scopeSources(sources, call.role, call.environment ?? 'production');
        scoped.set(key, part.length > 0 ? compile(parseBundle(part)) : undefined);
      }
      const engine = scoped.get(key);
      // No policy for the role: nothing is sent, and the whole bundle has nothing for it either.
      if (!engine) expect(whole.decideSync(call).error?.code).toBe('no_policy');
      else expect(strip(engine.decideSync(call)), JSON.stringify(call)).toEqual(strip(whole.decideSync(call)));
      compared++;
    }
    expect(compared).toBeGreaterThan(200);
    expect([...scoped.values()].filter(Boolean).length).toBeGreaterThanOrEqual(4);
  });
});
