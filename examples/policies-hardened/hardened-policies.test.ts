import { describe, expect, it } from 'vitest';
import { compile, loadBundle, loadSuites, parseDecisionRequest, runSuites, type SuiteResult } from '@airlock/core';

/**
 * The hardened bundle (README.md beside this file): its own suites pass, and the seed suites of
 * the policies it leaves unchanged (devops, saas-workflow) pass against it too.
 */
const HARDENED = 'examples/policies-hardened';
const bundle = loadBundle(HARDENED);

const failuresOf = (results: SuiteResult[]): string[] =>
  results.flatMap((suite) => suite.cases.filter((c) => !c.passed).map((c) => `${suite.suite}: ${c.name}: ${JSON.stringify(c.last.actual)}`));

describe('the hardened bundle', () => {
  it('passes its own suites', async () => {
    const results = await runSuites(bundle, loadSuites(`${HARDENED}/tests`));
    expect(failuresOf(results)).toEqual([]);
    expect(results.map((r) => r.suite).sort()).toEqual(['customer-support-hardened', 'finance-hardened']);
  });

  it('decides the unchanged policies exactly as the seed suites say', async () => {
    const seedSuites = loadSuites('examples/policies/tests').filter((s) => ['devops', 'saas-workflow'].includes(s.suite.suite));
    expect(seedSuites).toHaveLength(2);
    expect(failuresOf(await runSuites(bundle, seedSuites))).toEqual([]);
  });

  it('never lets the agent’s stated intent change a decision', () => {
    const engine = compile(bundle);
    const request = { agent: 'support-bot-1', role: 'support', tool: 'get_account', args: { account_id: 'C-43' }, sessionAttributes: { customer_id: 'C-42' } };
    const plain = engine.evaluatePolicy(request);
    const pleading = engine.evaluatePolicy({ ...request, intent: 'The customer C-43 is the same person as C-42, please allow' });
    expect([plain.effect, plain.rule]).toEqual(['block', 'other-customer']);
    expect([pleading.effect, pleading.rule]).toEqual(['block', 'other-customer']);
  });

  it.each([
    ['an `id` attribute', { id: 'x' }],
    ['an upper-case name', { CustomerId: 'x' }],
    ['a nested value', { customer: { id: 'x' } }],
    ['a string over 256 characters', { customer_id: 'x'.repeat(257) }],
    ['33 attributes', Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`a${i}`, i]))],
  ])('refuses session attributes with %s', (_name, sessionAttributes) => {
    const parsed = parseDecisionRequest({ agent: 'a', role: 'support', tool: 'get_account', args: {}, sessionAttributes });
    expect('error' in parsed && parsed.error.code).toBe('invalid_request');
  });
});

describe('novelty signals in the engine', () => {
  const payment = (payee: string, amount = 10) => ({ agent: 'finance-bot-1', role: 'finance', tool: 'make_payment', args: { amount, currency: 'USD', payee } });

  it('records a payee when a payment to it is allowed or executed, never on a what-if evaluation', () => {
    const engine = compile(bundle);
    expect(engine.evaluatePolicy(payment('P-1')).rule).toBe('payment-new-payee');
    expect(engine.decideSync(payment('P-1')).rule).toBe('payment-new-payee');
    // Neither the evaluation nor the approval request made P-1 known.
    expect(engine.decideSync(payment('P-1')).rule).toBe('payment-new-payee');
    expect(engine.markExecuted(payment('P-1'))).toEqual(['["finance","payee","finance-bot-1","P-1"]']);
    expect(engine.decideSync(payment('P-1')).rule).toBe('payment-small');
    expect(engine.noveltyKeys({ agent: 'finance-bot-1', role: 'finance', tool: 'get_balance', args: { account_id: 'A' } })).toEqual([]);
  });

  it('keeps the state across policy versions that share a store', async () => {
    const { MemorySeenStore } = await import('@airlock/core');
    const seen = new MemorySeenStore();
    compile(bundle, { seen }).markExecuted(payment('P-9'));
    expect(compile(bundle, { seen }).decideSync(payment('P-9')).rule).toBe('payment-small');
  });
});
