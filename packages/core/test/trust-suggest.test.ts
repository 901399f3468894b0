import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Engine, loadBundle, parseBundle, roundDown, suggestThresholds, type ApprovalEvidence, type ApprovalVerdict } from '../src/index.js';

const seeds = loadBundle(fileURLToPath(new URL('../../../examples/policies', import.meta.url)));
const DAY = 86_400_000;
const START = Date.parse('2026-10-24T00:00:00Z');

/** A refund approval asked for by refund-medium, for `amount`, ending as `verdict`. */
function refund(amount: number, verdict: ApprovalVerdict, i: number): ApprovalEvidence {
  return {
    rule: 'refund-medium',
    tool: 'issue_refund',
    agent: 'support-bot-1',
    role: 'support',
    environment: 'production',
    args: { account_id: `A-${i}`, amount, currency: 'USD' },
    verdict,
    at: START + (i % 30) * DAY + i,
  };
}

/** 145 refunds from $50.50 to $80.00 (evenly spread), two of them denied (at $61 and $72). */
function repeatedApprovals(): ApprovalEvidence[] {
  const history: ApprovalEvidence[] = [];
  for (let i = 0; i < 145; i++) {
    const amount = Math.round((50.5 + (29.5 * i) / 144) * 100) / 100;
    history.push(refund(amount, i === 50 || i === 110 ? 'denied' : 'approved', i));
  }
  return history;
}

describe('progressive-trust threshold suggestions', () => {
  it('proposes raising refund-small to $80 from 143 of 145 refunds approved between $50 and $80', () => {
    const suggestions = suggestThresholds(seeds, repeatedApprovals());
    expect(suggestions).toHaveLength(1);
    const [suggestion] = suggestions;
    expect(suggestion).toMatchObject({
      kind: 'raise_allow_threshold',
      policy: 'customer-support',
      file: 'customer-support.yaml',
      tool: 'issue_refund',
      argument: 'amount',
      allowRule: 'refund-small',
      approvalRule: 'refund-medium',
      from: 50,
      to: 80,
      evidence: { approved: 143, denied: 2, edited: 0, undecided: 0, lowest: 50.5, highest: 80, wouldAllow: 145 },
    });
    expect(suggestion?.message).toContain('approved as asked 143/145 times');
    // Only conditions are edited: texts that name the old number are left to a person.
    expect(suggestion?.review).toEqual(['the reason of refund-medium still says 50: "Refunds over $50 up to $500 need approval, by a support lead up to $200 and a support manager above"']);
  });

  it('edits only the two numbers of the policy file, and the edit decides as suggested', () => {
    const [suggestion] = suggestThresholds(seeds, repeatedApprovals());
    if (!suggestion) throw new Error('no suggestion');
    const { before, after } = suggestion.change;
    const changed = before.split('\n').filter((line, i) => line !== after.split('\n')[i]);
    expect(changed).toEqual(['    when: args.amount <= 50', '    when: args.amount > 50 && args.amount <= 500']);
    expect(after).toContain('    when: args.amount <= 80\n');
    expect(after).toContain('    when: args.amount > 80 && args.amount <= 500\n');
    // Comments survive: the file is edited as text, not re-serialised.
    expect(after.split('\n').filter((line) => line.trim().startsWith('#'))).toEqual(before.split('\n').filter((line) => line.trim().startsWith('#')));
    const edited = new Engine(parseBundle(seeds.sources.map((s) => (s.file === suggestion.file ? { file: s.file, text: after } : s))));
    const decide = (amount: number): string | null =>
      edited.evaluatePolicy({ agent: 'a', role: 'support', tool: 'issue_refund', args: { account_id: 'A', amount, currency: 'USD' } }).rule;
    expect([decide(80), decide(80.01), decide(500), decide(500.01)]).toEqual(['refund-small', 'refund-medium', 'refund-medium', 'refund-large']);
  });

  it.each([
    ['too few decided approvals', repeatedApprovals().slice(0, 19)],
    ['denials above 5 %', repeatedApprovals().map((item, i) => (i % 12 === 0 ? { ...item, verdict: 'denied' as const } : item))],
    ['approvals granted only with edited arguments', repeatedApprovals().map((item, i) => (i % 2 === 0 ? { ...item, verdict: 'edited' as const } : item))],
    ['only expired approvals', repeatedApprovals().map((item) => ({ ...item, verdict: 'undecided' as const }))],
    ['approvals of another rule', repeatedApprovals().map((item) => ({ ...item, rule: 'refund-large' }))],
    ['no history', []],
  ])('suggests nothing with %s', (_name, history) => {
    expect(suggestThresholds(seeds, history)).toEqual([]);
  });

  it('stops below refusals bunched at the top of the range, even when the overall rate is high', () => {
    // 100 approvals from $51 to $70.80, then 6 denials from $75 to $80: 94 % overall would hide them.
    const history = [
      ...Array.from({ length: 100 }, (_, i) => refund(51 + i * 0.2, 'approved', i)),
      ...Array.from({ length: 6 }, (_, i) => refund(75 + i, 'denied', 100 + i)),
    ];
    const [suggestion] = suggestThresholds(seeds, history);
    expect(suggestion?.to).toBe(70);
    expect(suggestion?.evidence).toMatchObject({ approved: 96, denied: 0, highest: 70 });
    // One refusal among the ten values just below a threshold is enough to stop there.
    const oneLate = [...history.slice(0, 100), refund(71, 'denied', 200)];
    expect(suggestThresholds(seeds, oneLate)[0]?.to).toBe(70);
  });

  it('never raises past the approval rule’s own ceiling', () => {
    const history = Array.from({ length: 60 }, (_, i) => refund(60 + i * 8, 'approved', i)).filter((item) => (item.args.amount as number) < 500);
    const [suggestion] = suggestThresholds(seeds, history);
    expect(suggestion?.to).toBe(490);
    const capped = suggestThresholds(seeds, [...history, ...Array.from({ length: 5 }, (_, i) => refund(500, 'approved', 100 + i))]);
    expect(capped[0]?.to).toBe(500);
  });

  it('finds the `< c` / `>= c` pairing of the finance payments too', () => {
    const history = Array.from({ length: 40 }, (_, i) => ({
      rule: 'payment-medium',
      tool: 'make_payment',
      agent: 'finance-bot-1',
      role: 'finance',
      environment: 'production',
      args: { amount: 1000 + i * 25, currency: 'USD', payee: `P-${i}` },
      verdict: 'approved' as const,
      at: START + i,
    }));
    const [suggestion] = suggestThresholds(seeds, history);
    expect(suggestion).toMatchObject({ allowRule: 'payment-small', approvalRule: 'payment-medium', from: 1000, to: 1900 });
    expect(suggestion?.change.after).toContain('when: args.amount < 1900\n');
    expect(suggestion?.change.after).toContain('when: args.amount >= 1900 && args.amount <= 25000\n');
  });

  it.each([
    [79.99, 79],
    [80, 80],
    [1234, 1200],
    [9.87, 9.8],
    [500, 500],
  ])('rounds %s down to %s', (value, rounded) => {
    expect(roundDown(value)).toBeCloseTo(rounded, 9);
  });
});
