import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAirlock, type Airlock } from '../src/index.js';
import type { ServerSession as Session } from './server-session.js';
import { startSdkServer, type SdkServer } from './support/server.js';

/**
 * The SDK against a real server: approvals routed by the seed policies, decided by people over
 * the API, and the guarded tool running exactly what they approved.
 */

describe('SDK with a server: routed approvals', () => {
  let server: SdkServer;
  let admin: Session;
  let second: Session;
  let support: Airlock;
  let finance: Airlock;

  beforeAll(async () => {
    server = await startSdkServer('airlock-sdk-remote-');
    admin = await server.signIn();
    await admin.post('/v1/users', { username: 'fin-2', password: 'a long enough password', role: 'approver', groups: ['finance-approvers'] });
    second = await server.signIn('fin-2', 'a long enough password');
    support = createAirlock({ url: server.url, apiKey: server.key('support-bot-1') });
    finance = createAirlock({ url: server.url, apiKey: server.key('finance-bot-1') });
  });
  afterAll(async () => {
    await support.close();
    await finance.close();
    await server.close();
  });

  /** The one pending approval of an agent for a tool, once it exists (the guard is waiting on it). */
  async function pendingFor(agent: string, tool: string): Promise<{ id: string; args: Record<string, unknown> }> {
    for (;;) {
      const { body } = await admin.get(`/v1/approvals?status=pending&agent=${agent}`);
      const found = (body.approvals as { id: string; tool: string; args: Record<string, unknown> }[]).find((a) => a.tool === tool);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('sends the bound session attributes and intent: the approver sees them, and the approval is spent in the same session', async () => {
    const issueRefund = vi.fn(async (args: { account_id: string; amount: number; currency: string }) => ({ refunded: args.amount }));
    const guarded = support.guard('issue_refund', issueRefund);
    const requested = { account_id: 'SESSION-1', amount: 80, currency: 'USD' };
    const running = support.session({ id: 'conv-7', attributes: { customer_id: 'SESSION-1' }, intent: 'Refund the broken kettle' }, () => guarded(requested));
    const pending = await pendingFor('support-bot-1', 'issue_refund');
    const { body } = await admin.get(`/v1/approvals/${pending.id}`);
    expect(body).toMatchObject({ session: 'conv-7', sessionAttributes: { customer_id: 'SESSION-1' }, intent: 'Refund the broken kettle' });
    expect((await admin.post(`/v1/approvals/${pending.id}/approve`, { reason: 'fine' })).status).toBe(200);
    expect(await running).toEqual({ refunded: 80 });
    expect((await admin.get(`/v1/approvals/${pending.id}`)).body.status).toBe('redeemed');
  });

  it('waits, then runs the refund edited by the approver, and tells the model what ran', async () => {
    const issueRefund = vi.fn(async (args: { account_id: string; amount: number; currency: string }) => ({ refunded: args.amount }));
    const guarded = support.guard('issue_refund', issueRefund);
    const requested = { account_id: 'SDK-1', amount: 75, currency: 'USD' };
    const running = guarded(requested);
    const approval = await pendingFor('support-bot-1', 'issue_refund');
    expect(approval.args).toEqual(requested);
    const approved = await admin.post(`/v1/approvals/${approval.id}/approve`, { reason: 'goodwill capped at $50', args: { ...requested, amount: 50 } });
    expect(approved.status).toBe(200);

    expect(await running).toEqual({ airlock: 'approved_with_changes', args: { ...requested, amount: 50 }, result: { refunded: 50 } });
    expect(issueRefund.mock.calls).toEqual([[{ ...requested, amount: 50 }]]);
  });

  it('return mode: the model gets the pending approval; resuming after the edit runs the edited call once', async () => {
    const issueRefund = vi.fn(async (args: { amount: number }) => `refunded ${args.amount}`);
    const call = { tool: 'issue_refund', args: { account_id: 'SDK-2', amount: 90, currency: 'USD' } };
    const verdict = await support.check(call, { approval: 'return' });
    expect(verdict.outcome).toBe('pending');
    const approvalId = verdict.outcome === 'pending' ? verdict.pending.approvalId : '';
    await admin.post(`/v1/approvals/${approvalId}/approve`, { reason: 'less', args: { ...call.args, amount: 60 } });

    const resumed = await support.resume(call, approvalId);
    expect(resumed).toMatchObject({ outcome: 'run', edited: true, args: { ...call.args, amount: 60 } });
    expect(await support.execute(resumed, issueRefund)).toEqual({ airlock: 'approved_with_changes', args: { ...call.args, amount: 60 }, result: 'refunded 60' });
    // Spent: resuming again does not run it twice.
    expect(await support.resume(call, approvalId)).toMatchObject({ outcome: 'refused', refusal: { code: 'approval_used' } });
  });

  it('runs a two-person payment only after two different people approved it', async () => {
    const makePayment = vi.fn(async (args: { amount: number }) => `paid ${args.amount}`);
    const call = { tool: 'make_payment', args: { amount: 12_000, currency: 'USD', payee: 'Acme' } };
    const verdict = await finance.check(call, { approval: 'return' });
    const pending = verdict.outcome === 'pending' ? verdict.pending : undefined;
    expect(pending).toMatchObject({ approvers: ['finance-approvers'] });
    expect(pending?.message).toContain('2 different people');

    expect((await admin.post(`/v1/approvals/${pending?.approvalId}/approve`, { reason: 'ok' })).body).toMatchObject({ status: 'pending', approvalsRemaining: 1 });
    // Still one approval short: waiting briefly answers pending, and nothing runs.
    expect(await finance.resume(call, pending?.approvalId as string, { approvalTimeoutMs: 0 })).toMatchObject({ outcome: 'refused', refusal: { code: 'approval_timeout' } });
    expect((await second.post(`/v1/approvals/${pending?.approvalId}/approve`, { reason: 'second pair of eyes' })).body).toMatchObject({ status: 'approved' });

    const resumed = await finance.resume(call, pending?.approvalId as string);
    expect(await finance.execute(resumed, makePayment)).toBe('paid 12000');
    expect(makePayment).toHaveBeenCalledTimes(1);
  });

  it('refuses an edit the policy would block; the call waits on and runs only as finally decided', async () => {
    const issueRefund = vi.fn(async () => 'refunded');
    const call = { tool: 'issue_refund', args: { account_id: 'SDK-3', amount: 80, currency: 'USD' } };
    const verdict = await support.check(call, { approval: 'return' });
    const approvalId = verdict.outcome === 'pending' ? verdict.pending.approvalId : '';
    const refused = await admin.post(`/v1/approvals/${approvalId}/approve`, { reason: 'more', args: { ...call.args, amount: 5_000 } });
    expect(refused).toMatchObject({ status: 422, body: { error: { code: 'edit_blocked', rule: 'refund-large' } } });
    await admin.post(`/v1/approvals/${approvalId}/deny`, { reason: 'no refund' });
    const resumed = await support.resume(call, approvalId);
    expect(await support.execute(resumed, issueRefund)).toMatchObject({ airlock: 'blocked', code: 'approval_denied' });
    expect(issueRefund).not.toHaveBeenCalled();
  });
});
