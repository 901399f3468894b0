import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn as login, type Person } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

interface Approval {
  id: string;
  status: string;
  agent: string;
  callHash: string;
  resolvedBy: string | null;
  resolutionReason: string | null;
  redeemedAt: string | null;
}

interface AuditPage {
  records: { seq: number; type: string; actor: string; data: Record<string, unknown> }[];
}

describe('approvals', () => {
  let t: TestServer;
  let admin: Person;
  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.admin();
    expect((await admin.post('/v1/users', { username: 'lead', password: 'a long enough password', role: 'approver', groups: ['support-leads'] })).status).toBe(201);
    expect((await admin.post('/v1/users', { username: 'watcher', password: 'a long enough password', role: 'viewer' })).status).toBe(201);
  });
  afterAll(async () => {
    await t.dispose();
  });

  let account = 0;
  /** A refund to a fresh account ($75 by default): refund-medium asks for approval. */
  async function requestRefund(amount = 75): Promise<{ approvalId: string; decisionId: string; args: Record<string, unknown> }> {
    const args = { account_id: `APR-${++account}`, amount, currency: 'USD' };
    const { body } = await t.agent('support-bot-1').post<{ id: string; effect: string; approval: { id: string } }>('/v1/decide', { tool: 'issue_refund', args });
    expect(body.effect).toBe('require_approval');
    return { approvalId: body.approval.id, decisionId: body.id, args };
  }

  const signIn = (username: string) => login(t.url, username, 'a long enough password');

  it('approve → redeem once with the same call; a second redeem is refused', async () => {
    const { approvalId, decisionId, args } = await requestRefund();
    const support = t.agent('support-bot-1');
    const pending = await support.get<Approval>(`/v1/approvals/${approvalId}`);
    expect(pending.body).toMatchObject({ status: 'pending', agent: 'support-bot-1' });

    const early = await support.post(`/v1/approvals/${approvalId}/redeem`, { tool: 'issue_refund', args });
    expect(early).toMatchObject({ status: 409, body: { error: { code: 'approval_pending' } } });

    const lead = await signIn('lead');
    const approved = await lead.post<Approval>(`/v1/approvals/${approvalId}/approve`, { reason: 'customer was double charged' });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'approved', resolvedBy: 'lead', resolutionReason: 'customer was double charged' });

    const redeemed = await support.post<Approval>(`/v1/approvals/${approvalId}/redeem`, { tool: 'issue_refund', args });
    expect(redeemed.status).toBe(200);
    expect(redeemed.body.status).toBe('redeemed');

    const again = await support.post(`/v1/approvals/${approvalId}/redeem`, { tool: 'issue_refund', args });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'approval_already_redeemed' } } });

    const audit = await admin.get<AuditPage>(`/v1/audit?agent=support-bot-1&limit=50`);
    const trail = audit.body.records.filter((r) => r.data.approval === approvalId || r.data.id === decisionId).map((r) => `${r.type} ${r.actor}`);
    expect(trail.reverse()).toEqual([
      'decision agent:support-bot-1',
      'approval.created agent:support-bot-1',
      'approval.approved user:lead',
      'approval.redeemed agent:support-bot-1',
    ]);
  });

  it('refuses to redeem with changed arguments or another tool', async () => {
    const { approvalId, args } = await requestRefund();
    await admin.post(`/v1/approvals/${approvalId}/approve`, { reason: 'ok' });
    const support = t.agent('support-bot-1');
    const bigger = await support.post(`/v1/approvals/${approvalId}/redeem`, { tool: 'issue_refund', args: { ...args, amount: 500 } });
    expect(bigger).toMatchObject({ status: 403, body: { error: { code: 'call_mismatch' } } });
    const other = await support.post(`/v1/approvals/${approvalId}/redeem`, { tool: 'create_ticket', args });
    expect(other).toMatchObject({ status: 403, body: { error: { code: 'call_mismatch' } } });
    expect((await support.post(`/v1/approvals/${approvalId}/redeem`, { tool: 'issue_refund', args })).status).toBe(200);
  });

  it('refuses another agent: it can neither read nor redeem the approval', async () => {
    const { approvalId, args } = await requestRefund();
    await admin.post(`/v1/approvals/${approvalId}/approve`, { reason: 'ok' });
    const other = t.agent('finance-bot-1');
    expect((await other.get(`/v1/approvals/${approvalId}`)).body).toMatchObject({ error: { code: 'approval_wrong_agent' } });
    const stolen = await other.post(`/v1/approvals/${approvalId}/redeem`, { tool: 'issue_refund', args });
    expect(stolen).toMatchObject({ status: 403, body: { error: { code: 'approval_wrong_agent' } } });
  });

  it('never lets an agent approve, not even its own request; a viewer cannot either', async () => {
    const { approvalId } = await requestRefund();
    const self = await t.agent('support-bot-1').post(`/v1/approvals/${approvalId}/approve`, { reason: 'I approve myself' });
    expect(self).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    const watcher = await signIn('watcher');
    expect((await watcher.post(`/v1/approvals/${approvalId}/approve`, { reason: 'no' })).status).toBe(403);
    expect((await t.agent('support-bot-1').get<Approval>(`/v1/approvals/${approvalId}`)).body.status).toBe('pending');
  });

  it('deny → redeem refused, and a decided approval cannot be decided again', async () => {
    const { approvalId, args } = await requestRefund();
    const denied = await admin.post<Approval>(`/v1/approvals/${approvalId}/deny`, { reason: 'looks like fraud' });
    expect(denied.body).toMatchObject({ status: 'denied', resolutionReason: 'looks like fraud' });
    const redeem = await t.agent('support-bot-1').post(`/v1/approvals/${approvalId}/redeem`, { tool: 'issue_refund', args });
    expect(redeem).toMatchObject({ status: 409, body: { error: { code: 'approval_denied' } } });
    const flip = await admin.post(`/v1/approvals/${approvalId}/approve`, { reason: 'changed my mind' });
    expect(flip).toMatchObject({ status: 409, body: { error: { code: 'approval_not_pending', status: 'denied' } } });
  });

  it('requires a reason to approve or deny', async () => {
    const { approvalId } = await requestRefund();
    expect((await admin.post(`/v1/approvals/${approvalId}/approve`, { reason: '  ' })).body).toMatchObject({ error: { code: 'invalid_request', param: 'body.reason' } });
  });

  it('expires after 15 minutes: the approval reads expired, cannot be approved or redeemed, and the expiry is audited', async () => {
    // $300 goes to the managers' tier, which has no timeout: only the expiry applies.
    const { approvalId, args } = await requestRefund(300);
    const approvedOne = await requestRefund(300);
    const unread = await requestRefund(300);
    await admin.post(`/v1/approvals/${approvedOne.approvalId}/approve`, { reason: 'ok' });
    t.clock.advance(15 * 60_000);
    // Listing sweeps: an approval nobody read is expired too.
    const expiredList = await admin.get<{ approvals: Approval[] }>('/v1/approvals?status=expired&limit=1000');
    expect(expiredList.body.approvals.map((a) => a.id)).toContain(unread.approvalId);
    const support = t.agent('support-bot-1');
    expect((await support.get<Approval>(`/v1/approvals/${approvalId}`)).body.status).toBe('expired');
    expect((await admin.post(`/v1/approvals/${approvalId}/approve`, { reason: 'late' })).body).toMatchObject({ error: { code: 'approval_expired' } });
    expect((await support.post(`/v1/approvals/${approvalId}/redeem`, { tool: 'issue_refund', args })).body).toMatchObject({
      error: { code: 'approval_expired' },
    });
    const lateRedeem = await support.post(`/v1/approvals/${approvedOne.approvalId}/redeem`, { tool: 'issue_refund', args: approvedOne.args });
    expect(lateRedeem).toMatchObject({ status: 409, body: { error: { code: 'approval_expired' } } });

    const expired = await admin.get<AuditPage>('/v1/audit?type=approval.expired&limit=10');
    const forThis = expired.body.records.filter((r) => r.data.approval === approvalId);
    expect(forThis).toHaveLength(1);
    expect(forThis[0]).toMatchObject({ actor: 'system', data: { was: 'pending' } });
  });

  it('lists approvals by status with a cursor', async () => {
    const first = await requestRefund();
    t.clock.advance(1);
    const second = await requestRefund();
    const page1 = await admin.get<{ approvals: Approval[]; nextCursor: string }>('/v1/approvals?status=pending&limit=1');
    expect(page1.body.approvals.map((a) => a.id)).toEqual([second.approvalId]);
    const page2 = await admin.get<{ approvals: Approval[] }>(`/v1/approvals?status=pending&limit=1&cursor=${page1.body.nextCursor}`);
    expect(page2.body.approvals.map((a) => a.id)).toEqual([first.approvalId]);
  });

  it('long-poll wait answers as soon as the approval is decided', async () => {
    const { approvalId } = await requestRefund();
    const support = t.agent('support-bot-1');
    const waiting = support.get<Approval>(`/v1/approvals/${approvalId}/wait?timeout=30`);
    let settled = false;
    void waiting.then(() => (settled = true));
    // The wait is registered before the approval: it must still be pending after a round trip.
    expect((await support.get<Approval>(`/v1/approvals/${approvalId}`)).body.status).toBe('pending');
    expect(settled).toBe(false);
    await admin.post(`/v1/approvals/${approvalId}/approve`, { reason: 'go' });
    const answered = await waiting;
    expect(answered.status).toBe(200);
    expect(answered.body.status).toBe('approved');
  });

  it('long-poll wait returns the pending approval when its timeout passes', async () => {
    const { approvalId } = await requestRefund();
    const answered = await t.agent('support-bot-1').get<Approval>(`/v1/approvals/${approvalId}/wait?timeout=0.2`);
    expect(answered.body.status).toBe('pending');
    expect((await t.agent('support-bot-1').get(`/v1/approvals/${approvalId}/wait?timeout=61`)).status).toBe(400);
  });

  it('publishes approval changes on /v1/events', async () => {
    const { approvalId } = await requestRefund();
    const controller = new AbortController();
    const response = await fetch(`${t.url}/v1/events`, { headers: { cookie: admin.cookie }, signal: controller.signal });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await admin.post(`/v1/approvals/${approvalId}/deny`, { reason: 'no' });
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes(`"id":"${approvalId}"`)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    controller.abort();
    expect(text).toMatch(/event: approval\ndata: .*"status":"denied"/);
  });
});
