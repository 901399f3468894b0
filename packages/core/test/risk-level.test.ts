import { describe, expect, it } from 'vitest';
import { compile, decisionRisk, loadBundle, parseBundle, type Decision, type Effect, type RiskLevel } from '../src/index.js';

/**
 * The level a decision reports is consistent with what happened (the tiers: low → allow, medium →
 * allow and flag, high → approval, critical → block): the stricter of the score's tier and the
 * tier the outcome stands for. The raw score is kept.
 */
describe('risk level of a decision', () => {
  // Each rule effect, with risk points that put the score in each tier (medium 20, high 50, critical 90).
  const engine = compile(
    parseBundle([
      {
        file: 'p.yaml',
        text: `policy: p
appliesTo: { roles: [r] }
default: block
riskTiers: { medium: 20, high: 50, critical: 90 }
tools:
  act:
    args: { effect: { type: string }, points: { type: integer }, n: { type: integer } }
rules:
  - { id: allow, tool: act, when: args.effect == "allow", effect: allow }
  - { id: approve, tool: act, when: args.effect == "require_approval", effect: require_approval }
  - { id: block, tool: act, when: args.effect == "block", effect: block }
  - { id: p20, tool: act, when: args.points == 20, risk: 20 }
  - { id: p50, tool: act, when: args.points == 50, risk: 50 }
  - { id: p90, tool: act, when: args.points == 90, risk: 90 }
limits:
  - { id: cap, tools: [act], key: [agent], when: args.n > 0, sum: args.n, max: 5, window: 1h, effect: block }
`,
      },
    ]),
  );
  const act = (effect: Effect, points: number, n = 0): Decision =>
    engine.decideSync({ agent: `a-${effect}-${points}-${n}`, role: 'r', tool: 'act', args: { effect, points, n }, at: '2026-01-05T10:00:00Z' });

  // rule effect × score → [effect, level]
  const table: [Effect, number, Effect, RiskLevel][] = [
    ['allow', 0, 'allow', 'low'],
    ['allow', 20, 'allow', 'medium'],
    ['allow', 50, 'require_approval', 'high'],
    ['allow', 90, 'block', 'critical'],
    ['require_approval', 0, 'require_approval', 'high'],
    ['require_approval', 20, 'require_approval', 'high'],
    ['require_approval', 50, 'require_approval', 'high'],
    ['require_approval', 90, 'block', 'critical'],
    ['block', 0, 'block', 'critical'],
    ['block', 20, 'block', 'critical'],
    ['block', 50, 'block', 'critical'],
    ['block', 90, 'block', 'critical'],
  ];
  it.each(table)('a %s rule with %i risk points ends %s, level %s, score kept', (rule, points, effect, level) => {
    const decision = act(rule, points);
    expect(decision.effect).toBe(effect);
    expect(decision.risk).toEqual({ score: points, level });
    expect(decision.flagged).toBe(level === 'medium');
  });

  it('a call a limit blocks is critical, whatever its score', () => {
    for (const points of [0, 20]) {
      const decision = act('allow', points, 6);
      expect(decision).toMatchObject({ effect: 'block', decidedBy: 'limit', rule: 'cap', flagged: false });
      expect(decision.risk).toEqual({ score: points, level: 'critical' });
    }
  });

  it('a call the default blocks, and calls that cannot be evaluated, are critical', () => {
    const byDefault = engine.decideSync({ agent: 'a', role: 'r', tool: 'act', args: { effect: 'other', points: 0, n: 0 } });
    expect(byDefault).toMatchObject({ effect: 'block', decidedBy: 'default', risk: { score: 0, level: 'critical' } });
    const badArgs = engine.decideSync({ agent: 'a', role: 'r', tool: 'act', args: { effect: 1 } });
    expect(badArgs).toMatchObject({ effect: 'block', decidedBy: 'error', error: { code: 'invalid_arguments' }, risk: { score: 0, level: 'critical' } });
    const unknown = engine.decideSync({ agent: 'a', role: 'r', tool: 'nope', args: {} });
    expect(unknown).toMatchObject({ effect: 'block', error: { code: 'unknown_tool' }, risk: { level: 'critical' } });
  });

  it('the seed policies: a blocked $900 refund and a blocked $30,000 payment read critical, an approval high', () => {
    const seeds = compile(loadBundle('examples/policies'));
    const refund = (amount: number): Decision =>
      seeds.decideSync({ agent: 'support-bot-1', role: 'support', environment: 'production', tool: 'issue_refund', args: { account_id: 'A-1', amount, currency: 'USD' } });
    expect(refund(900)).toMatchObject({ effect: 'block', risk: { level: 'critical' } });
    expect(refund(75)).toMatchObject({ effect: 'require_approval', risk: { level: 'high' } });
    expect(refund(10)).toMatchObject({ effect: 'allow', risk: { level: 'low' } });
    const payment = seeds.decideSync({ agent: 'fin-1', role: 'finance', environment: 'production', tool: 'make_payment', args: { amount: 30000, currency: 'USD', payee: 'p' } });
    expect(payment).toMatchObject({ effect: 'block', risk: { level: 'critical' } });
  });

  it('decisionRisk: the stricter of the score tier and the outcome tier', () => {
    const levels: RiskLevel[] = ['low', 'medium', 'high', 'critical'];
    const implied: Record<Effect, RiskLevel> = { allow: 'low', require_approval: 'high', block: 'critical' };
    for (const effect of ['allow', 'require_approval', 'block'] as const) {
      for (const [i, scoreLevel] of levels.entries()) {
        const j = levels.indexOf(implied[effect]);
        expect(decisionRisk(7, scoreLevel, effect, false)).toEqual({ score: 7, level: levels[Math.max(i, j)] });
      }
    }
    expect(decisionRisk(0, 'low', 'allow', true).level).toBe('medium');
  });
});
