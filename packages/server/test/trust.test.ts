import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, type Person } from './support/http.js';
import { people, PASSWORD } from './support/people.js';
import { startTestServer, type TestServer } from './support/server.js';

interface Suggestion {
  id: string;
  allowRule: string;
  approvalRule: string;
  from: number;
  to: number;
  evidence: { approved: number; denied: number; edited: number; undecided: number; wouldAllow: number };
  message: string;
  patch: string;
  candidate: { name: string; files: { file: string; text: string }[] };
}

interface Report {
  version: number | null;
  approvals: number;
  suggestions: Suggestion[];
}

/**
 * Progressive trust over HTTP: approvals people granted become a suggestion with its evidence and
 * a diff, which simulates and uploads like any draft, and is never applied by itself.
 */
describe('progressive-trust suggestions', () => {
  let t: TestServer;
  let admin: Person;
  let lead: Person;

  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.admin();
    ({ lead } = (await people(t.url, admin, { lead: { groups: ['support-leads'] } })) as { lead: Person });
  });
  afterAll(async () => {
    await t.dispose();
  });

  /** Asks for a refund that needs approval and has a lead decide it. */
  async function refundDecided(i: number, amount: number, verdict: 'approve' | 'deny' | 'edit' | 'leave'): Promise<void> {
    const decided = await t.agent('support-bot-1').post<{ effect: string; approval: { id: string } }>('/v1/decide', {
      tool: 'issue_refund',
      args: { account_id: `T-${i}`, amount, currency: 'USD' },
    });
    expect(decided.body.effect).toBe('require_approval');
    const id = decided.body.approval.id;
    if (verdict === 'approve') expect((await lead.post(`/v1/approvals/${id}/approve`, { reason: 'fine' })).status).toBe(200);
    if (verdict === 'deny') expect((await lead.post(`/v1/approvals/${id}/deny`, { reason: 'no' })).status).toBe(200);
    if (verdict === 'edit') {
      const edited = await lead.post(`/v1/approvals/${id}/approve`, { reason: 'less', args: { account_id: `T-${i}`, amount: 51, currency: 'USD' } });
      expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    }
    await t.clock.advance(60_000);
  }

  it('suggests nothing without history', async () => {
    const { body } = await admin.get<Report>('/v1/policies/suggestions');
    expect(body).toMatchObject({ version: 1, approvals: 0, suggestions: [] });
  });

  it('turns 43 of 45 refunds approved between $50 and $80 into a suggestion to raise refund-small to $80', async () => {
    for (let i = 0; i < 45; i++) {
      const amount = Math.round((51 + (29 * i) / 44) * 100) / 100;
      await refundDecided(i, amount, i === 10 ? 'deny' : i === 20 ? 'edit' : 'approve');
    }
    // Left unanswered: no evidence either way.
    await refundDecided(100, 60, 'leave');

    const { status, body } = await admin.get<Report>('/v1/policies/suggestions?since=30d');
    expect(status).toBe(200);
    expect(body.approvals).toBe(46);
    expect(body.suggestions).toHaveLength(1);
    const [suggestion] = body.suggestions;
    expect(suggestion).toMatchObject({ allowRule: 'refund-small', approvalRule: 'refund-medium', from: 50, to: 80 });
    expect(suggestion?.evidence).toMatchObject({ approved: 43, denied: 1, edited: 1, undecided: 1, wouldAllow: 46 });
    expect(suggestion?.message).toContain('approved as asked 43/45 times');
    expect(suggestion?.patch).toContain('-    when: args.amount <= 50');
    expect(suggestion?.patch).toContain('+    when: args.amount <= 80');

    // Never applied: version 1 is still active and a $70 refund still needs approval.
    const still = await t.agent('support-bot-1').post<{ effect: string; policy: { version: number } }>('/v1/decide', {
      tool: 'issue_refund',
      args: { account_id: 'T-200', amount: 70, currency: 'USD' },
    });
    expect(still.body).toMatchObject({ effect: 'require_approval', policy: { version: 1 } });

    // The candidate backtests like any draft: the recorded $50–$80 refunds flip to allow.
    const simulated = await admin.post<{ report: { flipped: number; flips: { from: string; to: string; rule: string | null; count: number }[] } }>(
      '/v1/policies/simulate',
      { ...suggestion?.candidate, last: 1000 },
    );
    expect(simulated.status, JSON.stringify(simulated.body)).toBe(200);
    // The 46 recorded refunds from $51 to $80 and the $70 one just made; nothing else changes.
    expect(simulated.body.report.flips).toEqual([expect.objectContaining({ from: 'require_approval', to: 'allow', rule: 'refund-small', count: 47 })]);
    expect(simulated.body.report.flipped).toBe(47);

    // And uploads as a new, inactive version.
    const uploaded = await admin.post<{ version: number }>('/v1/policies', suggestion?.candidate);
    expect(uploaded.status).toBe(201);
    expect((await admin.get<{ active: number }>('/v1/policies')).body.active).toBe(1);
  });

  it('is readable by viewers, and not by agents', async () => {
    await admin.post('/v1/users', { username: 'trust-viewer', password: PASSWORD, role: 'viewer' });
    const viewer = await signIn(t.url, 'trust-viewer', PASSWORD);
    expect((await viewer.get('/v1/policies/suggestions')).status).toBe(200);
    expect((await t.agent('support-bot-1').get('/v1/policies/suggestions')).status).toBe(403);
    expect((await admin.get('/v1/policies/suggestions?since=forever')).status).toBe(400);
  });
});
