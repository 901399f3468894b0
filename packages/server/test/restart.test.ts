import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';

describe('restart on the same data directory', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('keeps pending approvals, limit budgets, keys, the active policy and the audit chain', async () => {
    const support = t.agent('support-bot-1');
    const opened = await support.post<{ approval: { id: string } }>('/v1/decide', {
      tool: 'issue_refund',
      args: { account_id: 'R-1', amount: 75, currency: 'USD' },
    });
    const approvalId = opened.body.approval.id;
    const budget = { tool: 'issue_refund', args: { account_id: 'R-2', amount: 45, currency: 'USD' } };
    expect((await support.post('/v1/decide', budget)).body).toMatchObject({ effect: 'allow' });
    expect((await support.post('/v1/decide', budget)).body).toMatchObject({ effect: 'allow' });

    await t.restart();
    expect(t.server.seeded).toEqual({});

    const after = t.agent('support-bot-1');
    expect((await after.get(`/v1/approvals/${approvalId}`)).body).toMatchObject({ status: 'pending' });
    // $90 of the $100 budget was used before the restart: another $45 needs approval.
    expect((await after.post('/v1/decide', budget)).body).toMatchObject({ effect: 'require_approval', rule: 'refund-budget' });

    const admin = await t.admin();
    expect((await admin.post(`/v1/approvals/${approvalId}/approve`, { reason: 'after restart' })).body).toMatchObject({ status: 'approved' });
    expect(
      (await after.post(`/v1/approvals/${approvalId}/redeem`, { tool: 'issue_refund', args: { account_id: 'R-1', amount: 75, currency: 'USD' } })).body,
    ).toMatchObject({ status: 'redeemed' });
    expect((await admin.get('/v1/audit/verify')).body).toMatchObject({ ok: true });
  });
});
