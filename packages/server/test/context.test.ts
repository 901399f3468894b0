import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPolicySources } from '@airlock/core';
import type { Caller, Person } from './support/http.js';
import { people } from './support/people.js';
import { startTestServer, type TestServer } from './support/server.js';

interface Decision {
  id: string;
  effect: string;
  rule: string | null;
  approval?: { id: string };
}

interface Approval {
  id: string;
  status: string;
  intent: string | null;
  sessionAttributes: Record<string, unknown> | null;
}

/**
 * Context-aware governance over HTTP with the hardened example bundle: session attributes scope a
 * support bot to its customer, intent reaches approvers and the audit without deciding anything,
 * and a payment to a new payee needs approval until one was approved and executed.
 */
describe('session context, intent and novelty', () => {
  let t: TestServer;
  let admin: Person;
  let lead: Person;
  let treasurer: Person;

  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.admin();
    const signedIn = await people(t.url, admin, { lead: { groups: ['support-leads'] }, treasurer: { groups: ['finance-approvers'] } });
    lead = signedIn.lead as Person;
    treasurer = signedIn.treasurer as Person;
    const uploaded = await admin.post<{ version: number }>('/v1/policies', { name: 'hardened', files: readPolicySources('examples/policies-hardened') });
    expect(uploaded.status, JSON.stringify(uploaded.body)).toBe(201);
    expect((await admin.post(`/v1/policies/${uploaded.body.version}/activate`)).status).toBe(200);
  });
  afterAll(async () => {
    await t.dispose();
  });

  const support = (): Caller => t.agent('support-bot-1');
  const finance = (): Caller => t.agent('finance-bot-1');
  const session = { session: 'conv-881', sessionAttributes: { customer_id: 'C-42', channel: 'chat' } };

  it('scopes a support agent to the customer the application bound to the session', async () => {
    const own = await support().post<Decision>('/v1/decide', { tool: 'get_account', args: { account_id: 'C-42' }, ...session });
    const other = await support().post<Decision>('/v1/decide', { tool: 'get_account', args: { account_id: 'C-43' }, ...session });
    const unbound = await support().post<Decision>('/v1/decide', { tool: 'get_account', args: { account_id: 'C-42' }, session: 'conv-882' });
    expect([own.body, other.body, unbound.body].map((d) => `${d.effect}/${d.rule}`)).toEqual(['allow/read-account', 'block/other-customer', 'block/other-customer']);

    const audit = await admin.get<{ records: { data: { id: string; request: Record<string, unknown> } }[] }>('/v1/audit?type=decision&tool=get_account');
    const record = audit.body.records.find((r) => r.data.id === other.body.id);
    expect(record?.data.request).toMatchObject({ args: { account_id: 'C-43' }, session: 'conv-881', sessionAttributes: { customer_id: 'C-42', channel: 'chat' } });
  });

  it.each([
    ['an `id` attribute', { id: 'C-1' }],
    ['a nested value', { customer: { id: 'C-1' } }],
    ['an over-long value', { customer_id: 'x'.repeat(257) }],
  ])('refuses session attributes with %s', async (_name, sessionAttributes) => {
    const { status, body } = await support().post<{ error: { code: string } }>('/v1/decide', { tool: 'get_account', args: { account_id: 'C-42' }, sessionAttributes });
    expect(status).toBe(400);
    expect(body.error.code).toBe('invalid_request');
  });

  it('shows the stated intent to approvers and records it, and binds the approval to the session', async () => {
    const intent = 'The customer says the $60 order never arrived (ticket T-9).';
    const asked = await support().post<Decision>('/v1/decide', { tool: 'issue_refund', args: { account_id: 'C-42', amount: 60, currency: 'USD' }, ...session, intent });
    expect(asked.body).toMatchObject({ effect: 'require_approval', rule: 'refund-medium' });
    const id = asked.body.approval?.id as string;
    const seen = await lead.get<Approval>(`/v1/approvals/${id}`);
    expect(seen.body).toMatchObject({ intent, sessionAttributes: { customer_id: 'C-42', channel: 'chat' } });
    const audit = await admin.get<{ records: { data: { id: string; request: { intent?: string } } }[] }>('/v1/audit?type=decision&tool=issue_refund');
    expect(audit.body.records.find((r) => r.data.id === asked.body.id)?.data.request.intent).toBe(intent);

    expect((await lead.post(`/v1/approvals/${id}/approve`, { reason: 'ok' })).status).toBe(200);
    const call = { tool: 'issue_refund', args: { account_id: 'C-42', amount: 60, currency: 'USD' } };
    const elsewhere = await support().post<{ error: { code: string } }>(`/v1/approvals/${id}/redeem`, { ...call, sessionAttributes: { customer_id: 'C-7', channel: 'chat' } });
    expect([elsewhere.status, elsewhere.body.error.code]).toEqual([403, 'call_mismatch']);
    const without = await support().post<{ error: { code: string } }>(`/v1/approvals/${id}/redeem`, call);
    expect([without.status, without.body.error.code]).toEqual([403, 'call_mismatch']);
    const redeemed = await support().post<Approval>(`/v1/approvals/${id}/redeem`, { ...call, sessionAttributes: session.sessionAttributes });
    expect([redeemed.status, redeemed.body.status]).toEqual([200, 'redeemed']);
  });

  it('asks approval for a $10 payment to a new payee; once approved and executed, the next one is allowed', async () => {
    const pay = (payee: string) => finance().post<Decision>('/v1/decide', { tool: 'make_payment', args: { amount: 10, currency: 'USD', payee } });
    const first = await pay('ACME Ltd');
    expect(first.body).toMatchObject({ effect: 'require_approval', rule: 'payment-new-payee' });
    // Asking again before it ran changes nothing.
    expect((await pay('ACME Ltd')).body.rule).toBe('payment-new-payee');

    const id = first.body.approval?.id as string;
    expect((await treasurer.post(`/v1/approvals/${id}/approve`, { reason: 'known supplier' })).status).toBe(200);
    // Approved but not yet executed: still new.
    expect((await pay('ACME Ltd')).body.rule).toBe('payment-new-payee');
    expect((await finance().post(`/v1/approvals/${id}/redeem`, { tool: 'make_payment', args: { amount: 10, currency: 'USD', payee: 'ACME Ltd' } })).status).toBe(200);

    expect((await pay('ACME Ltd')).body).toMatchObject({ effect: 'allow', rule: 'payment-small' });
    expect((await pay('Other Corp')).body).toMatchObject({ effect: 'require_approval', rule: 'payment-new-payee' });
  });

  it('remembers known payees across a restart (rebuilt from the audit trail)', async () => {
    await t.restart();
    const pay = (payee: string) => t.agent('finance-bot-1').post<Decision>('/v1/decide', { tool: 'make_payment', args: { amount: 10, currency: 'USD', payee } });
    expect((await pay('ACME Ltd')).body).toMatchObject({ effect: 'allow', rule: 'payment-small' });
    expect((await pay('Other Corp')).body).toMatchObject({ effect: 'require_approval', rule: 'payment-new-payee' });
  });
});
