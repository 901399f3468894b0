import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller, Person } from './support/http.js';
import { activateWith, people } from './support/people.js';
import { startTestServer, type TestServer } from './support/server.js';

interface Approval {
  id: string;
  status: string;
  args: Record<string, unknown>;
  requestedArgs: Record<string, unknown>;
  edited: boolean;
  callHash: string;
  approvers: string[];
  tier: string;
  tierIndex: number;
  tierCount: number;
  requiredApprovals: number;
  approvalsRemaining: number;
  approvals: { by: string; reason: string; edited: boolean }[];
  deadlineAt: string | null;
  onTimeout: string | null;
  escalatesTo: string | null;
  escalations: number;
  expiresAt: string;
  resolvedBy: string | null;
  resolutionReason: string | null;
}

interface Decision {
  effect: string;
  rule: string | null;
  approval: { id: string; tier: string; approvers: string[]; required: number; deadlineAt: string | null; status: string };
}

interface AuditPage {
  records: { type: string; actor: string; data: Record<string, unknown> }[];
}

const MINUTE = 60_000;

describe('approval routing on the seed policies', () => {
  let t: TestServer;
  let admin: Person;
  let p: Record<string, Person>;
  let support: Caller;
  let finance: Caller;
  let account = 0;

  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.admin();
    p = await people(t.url, admin, {
      lead: { groups: ['support-leads'] },
      manager: { groups: ['support-managers'] },
      'fin-1': { groups: ['finance-approvers'] },
      'fin-2': { groups: ['finance-approvers'] },
      outsider: { groups: ['devops-approvers'] },
    });
    support = t.agent('support-bot-1');
    finance = t.agent('finance-bot-1');
  });
  afterAll(async () => {
    await t.dispose();
  });

  async function refund(amount: number): Promise<{ decision: Decision; args: Record<string, unknown> }> {
    const args = { account_id: `RT-${++account}`, amount, currency: 'USD' };
    const { body } = await support.post<Decision>('/v1/decide', { tool: 'issue_refund', args });
    expect(body.effect).toBe('require_approval');
    return { decision: body, args };
  }

  async function payment(amount: number): Promise<{ decision: Decision; args: Record<string, unknown> }> {
    const args = { amount, currency: 'USD', payee: `P-${++account}` };
    const { body } = await finance.post<Decision>('/v1/decide', { tool: 'make_payment', args });
    expect(body.effect).toBe('require_approval');
    return { decision: body, args };
  }

  const view = async (id: string): Promise<Approval> => (await admin.get<Approval>(`/v1/approvals/${id}`)).body;

  describe('tiers and entitlement', () => {
    it('routes a refund by amount: up to $200 to the support leads, above to the managers', async () => {
      const small = await refund(150);
      expect(small.decision.approval).toMatchObject({ tier: 'lead', approvers: ['support-leads'], required: 1, status: 'pending' });
      expect(small.decision.approval.deadlineAt).not.toBeNull();
      const large = await refund(400);
      expect(large.decision.approval).toMatchObject({ tier: 'manager', approvers: ['support-managers'], required: 1, deadlineAt: null });
      expect(await view(large.decision.approval.id)).toMatchObject({
        tier: 'manager',
        tierIndex: 1,
        tierCount: 2,
        requiredApprovals: 1,
        approvalsRemaining: 1,
        approvals: [],
        deadlineAt: null,
        onTimeout: null,
      });
    });

    it('refuses a lead approving a refund routed to the managers; a manager can', async () => {
      const { decision } = await refund(400);
      const id = decision.approval.id;
      const refused = await p.lead!.post(`/v1/approvals/${id}/approve`, { reason: 'looks fine' });
      expect(refused).toMatchObject({ status: 403, body: { error: { code: 'not_entitled', tier: 'manager', approvers: ['support-managers'] } } });
      expect((await view(id)).status).toBe('pending');
      // Denying is acting too: only the tier's groups may.
      expect((await p.lead!.post(`/v1/approvals/${id}/deny`, { reason: 'no' })).body).toMatchObject({ error: { code: 'not_entitled' } });
      const approved = await p.manager!.post<Approval>(`/v1/approvals/${id}/approve`, { reason: 'checked the order' });
      expect(approved.status).toBe(200);
      expect(approved.body).toMatchObject({ status: 'approved', resolvedBy: 'manager', approvalsRemaining: 0 });
    });

    it('lets a lead decide a lead-tier refund, and keeps someone from another group out', async () => {
      const { decision } = await refund(120);
      const id = decision.approval.id;
      expect((await p.outsider!.post(`/v1/approvals/${id}/approve`, { reason: 'sure' })).body).toMatchObject({ error: { code: 'not_entitled', tier: 'lead' } });
      expect((await p.lead!.post<Approval>(`/v1/approvals/${id}/deny`, { reason: 'duplicate refund' })).body).toMatchObject({ status: 'denied', resolvedBy: 'lead' });
    });
  });

  describe('two-person rule', () => {
    it('needs two distinct finance approvers for a payment over $10,000; the same person twice stays pending', async () => {
      const { decision, args } = await payment(12_000);
      const id = decision.approval.id;
      expect(decision.approval).toMatchObject({ tier: 'two-person', approvers: ['finance-approvers'], required: 2 });

      const first = await p['fin-1']!.post<Approval>(`/v1/approvals/${id}/approve`, { reason: 'invoice matches' });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ status: 'pending', requiredApprovals: 2, approvalsRemaining: 1, approvals: [{ by: 'fin-1', reason: 'invoice matches', edited: false }] });

      const again = await p['fin-1']!.post(`/v1/approvals/${id}/approve`, { reason: 'really, it matches' });
      expect(again).toMatchObject({ status: 409, body: { error: { code: 'already_approved', approvalsRemaining: 1 } } });
      expect(await view(id)).toMatchObject({ status: 'pending', approvalsRemaining: 1 });

      // The requesting agent never counts, whatever it sends.
      expect((await finance.post(`/v1/approvals/${id}/approve`, { reason: 'me' })).status).toBe(403);
      expect((await p.lead!.post(`/v1/approvals/${id}/approve`, { reason: 'me' })).body).toMatchObject({ error: { code: 'not_entitled' } });
      // Redeeming before the second approval is refused.
      expect((await finance.post(`/v1/approvals/${id}/redeem`, { tool: 'make_payment', args })).body).toMatchObject({ error: { code: 'approval_pending' } });

      const second = await p['fin-2']!.post<Approval>(`/v1/approvals/${id}/approve`, { reason: 'second pair of eyes' });
      expect(second.body).toMatchObject({ status: 'approved', resolvedBy: 'fin-2', approvalsRemaining: 0 });
      expect(second.body.approvals.map((a) => a.by)).toEqual(['fin-1', 'fin-2']);
      expect((await finance.post<Approval>(`/v1/approvals/${id}/redeem`, { tool: 'make_payment', args })).body.status).toBe('redeemed');

      const audit = await admin.get<AuditPage>('/v1/audit?agent=finance-bot-1&limit=100');
      const trail = audit.body.records.filter((r) => r.data.approval === id).map((r) => `${r.type} ${r.actor}`);
      expect(trail.reverse()).toEqual(['decision agent:finance-bot-1', 'approval.created agent:finance-bot-1', 'approval.vote user:fin-1', 'approval.approved user:fin-2', 'approval.redeemed agent:finance-bot-1']);
    });

    it('refuses an approval of a call another approver edited after it was shown (call_changed), alone and 100 at once', async () => {
      const { decision, args } = await payment(15_000);
      const id = decision.approval.id;
      const shown = (await view(id)) as unknown as { callHash: string };
      // fin-1 edits the amount down and approves: the call now is the edited one, with its own hash.
      const edited = await p['fin-1']!.post<Approval & { callHash: string }>(`/v1/approvals/${id}/approve`, { reason: 'only the first instalment', args: { ...args, amount: 12_000 }, callHash: shown.callHash });
      expect(edited.body).toMatchObject({ status: 'pending', approvalsRemaining: 1, edited: true });
      expect(edited.body.callHash).not.toBe(shown.callHash);

      // fin-2 was shown the $15,000 call: their approval is refused, 100 times at once, and not counted.
      const stale = await Promise.all(Array.from({ length: 100 }, () => p['fin-2']!.post(`/v1/approvals/${id}/approve`, { reason: 'looks right', callHash: shown.callHash })));
      for (const reply of stale) expect(reply).toMatchObject({ status: 409, body: { error: { code: 'call_changed', callHash: edited.body.callHash } } });
      expect(await view(id)).toMatchObject({ status: 'pending', approvalsRemaining: 1 });
      // Shown the edited call, fin-2 approves it.
      const second = await p['fin-2']!.post<Approval>(`/v1/approvals/${id}/approve`, { reason: 'the instalment is right', callHash: edited.body.callHash });
      expect(second.body).toMatchObject({ status: 'approved', args: { amount: 12_000 } });
    });

    it('lets one finance approver decide a payment of $10,000 or less', async () => {
      const { decision } = await payment(5_000);
      expect(decision.approval).toMatchObject({ tier: 'finance', required: 1 });
      expect((await p['fin-2']!.post<Approval>(`/v1/approvals/${decision.approval.id}/approve`, { reason: 'ok' })).body.status).toBe('approved');
    });

    it('lets a single denial end a two-person approval', async () => {
      const { decision } = await payment(20_000);
      const id = decision.approval.id;
      await p['fin-1']!.post(`/v1/approvals/${id}/approve`, { reason: 'fine by me' });
      expect((await p['fin-2']!.post<Approval>(`/v1/approvals/${id}/deny`, { reason: 'payee not on file' })).body).toMatchObject({ status: 'denied', resolvedBy: 'fin-2' });
    });
  });

  describe('edit and approve', () => {
    it('approves the call edited to $50; the agent redeems its original call and gets the edited arguments', async () => {
      const { decision, args } = await refund(75);
      const id = decision.approval.id;
      const edited = { ...args, amount: 50 };
      const approved = await p.lead!.post<Approval>(`/v1/approvals/${id}/approve`, { reason: 'goodwill is capped at $50', args: edited });
      expect(approved.status).toBe(200);
      expect(approved.body).toMatchObject({ status: 'approved', edited: true, args: edited, requestedArgs: args, approvals: [{ by: 'lead', edited: true }] });

      const redeemed = await support.post<Approval>(`/v1/approvals/${id}/redeem`, { tool: 'issue_refund', args });
      expect(redeemed.status).toBe(200);
      expect(redeemed.body).toMatchObject({ status: 'redeemed', args: edited });

      const audit = await admin.get<AuditPage>('/v1/audit?type=approval.approved&limit=20');
      expect(audit.body.records.find((r) => r.data.approval === id)?.data).toMatchObject({ edited: true, args: edited });
    });

    it('accepts the edited call itself at redemption, but nothing else', async () => {
      const { decision, args } = await refund(90);
      const id = decision.approval.id;
      const edited = { ...args, amount: 60 };
      await p.lead!.post(`/v1/approvals/${id}/approve`, { reason: 'less', args: edited });
      expect((await support.post(`/v1/approvals/${id}/redeem`, { tool: 'issue_refund', args: { ...args, amount: 70 } })).body).toMatchObject({ error: { code: 'call_mismatch' } });
      expect((await support.post<Approval>(`/v1/approvals/${id}/redeem`, { tool: 'issue_refund', args: edited })).body).toMatchObject({ status: 'redeemed', args: edited });
    });

    it.each([
      ['into the blocked range', 600, 'refund-large'],
      ['into an argument the schema refuses', -5, null],
    ])('refuses an edit %s and leaves the approval pending', async (_label, amount, rule) => {
      const { decision, args } = await refund(75);
      const id = decision.approval.id;
      const refused = await p.lead!.post(`/v1/approvals/${id}/approve`, { reason: 'more', args: { ...args, amount } });
      expect(refused).toMatchObject({ status: 422, body: { error: { code: 'edit_blocked', rule } } });
      expect(await view(id)).toMatchObject({ status: 'pending', edited: false, args, approvals: [] });
    });

    it('refuses a lead editing a refund up into the managers’ tier', async () => {
      const { decision, args } = await refund(75);
      const refused = await p.lead!.post(`/v1/approvals/${decision.approval.id}/approve`, { reason: 'more', args: { ...args, amount: 300 } });
      expect(refused).toMatchObject({ status: 403, body: { error: { code: 'not_entitled', tier: 'manager' } } });
    });

    it('restarts the count when a two-person approval is edited: approvals of the old amount no longer count', async () => {
      const { decision, args } = await payment(12_000);
      const id = decision.approval.id;
      await p['fin-1']!.post(`/v1/approvals/${id}/approve`, { reason: 'ok' });
      const edited = { ...args, amount: 11_000 };
      const afterEdit = await p['fin-2']!.post<Approval>(`/v1/approvals/${id}/approve`, { reason: 'minus the discount', args: edited });
      expect(afterEdit.body).toMatchObject({ status: 'pending', args: edited, approvalsRemaining: 1, approvals: [{ by: 'fin-2', edited: true }] });
      const done = await p['fin-1']!.post<Approval>(`/v1/approvals/${id}/approve`, { reason: 'ok with the new amount' });
      expect(done.body).toMatchObject({ status: 'approved', args: edited });
      expect(done.body.approvals.map((a) => a.by)).toEqual(['fin-2', 'fin-1']);
    });

    it('needs only the editor when the edited call would not need approval at all', async () => {
      const { decision, args } = await payment(15_000);
      const approved = await p['fin-1']!.post<Approval>(`/v1/approvals/${decision.approval.id}/approve`, { reason: 'split it', args: { ...args, amount: 900 } });
      expect(approved.body).toMatchObject({ status: 'approved', args: { ...args, amount: 900 } });
    });
  });

  describe('timeouts', () => {
    it('escalates a lead-tier refund to the managers after 10 minutes, from the scheduler on the injected clock', async () => {
      const { decision } = await refund(80);
      const id = decision.approval.id;
      expect(await view(id)).toMatchObject({ tier: 'lead', onTimeout: 'escalate', escalatesTo: 'manager' });
      const before = (await view(id)).deadlineAt as string;

      await t.clock.advance(10 * MINUTE);
      // The audit query reads no approval, so a record here was written by the scheduler.
      const escalated = await admin.get<AuditPage>('/v1/audit?type=approval.escalated&limit=50');
      const record = escalated.body.records.find((r) => r.data.approval === id);
      expect(record).toMatchObject({ actor: 'system', data: { from: 'lead', to: 'manager', approvers: ['support-managers'] } });

      const now = await view(id);
      expect(now).toMatchObject({ status: 'pending', tier: 'manager', approvers: ['support-managers'], escalations: 1, deadlineAt: null, escalatesTo: null });
      expect(Date.parse(now.expiresAt)).toBeGreaterThan(Date.parse(before));
      expect((await p.lead!.post(`/v1/approvals/${id}/approve`, { reason: 'late' })).body).toMatchObject({ error: { code: 'not_entitled', tier: 'manager' } });
      expect((await p.manager!.post<Approval>(`/v1/approvals/${id}/approve`, { reason: 'covering for the lead' })).body.status).toBe('approved');
    });

    it('keeps the deadline across a restart and escalates when it passes', async () => {
      const { decision } = await refund(95);
      const id = decision.approval.id;
      await t.restart();
      admin = await t.admin();
      await t.clock.advance(10 * MINUTE);
      const escalated = await admin.get<AuditPage>('/v1/audit?type=approval.escalated&limit=50');
      expect(escalated.body.records.some((r) => r.data.approval === id)).toBe(true);
      expect(await view(id)).toMatchObject({ tier: 'manager', status: 'pending' });
    });
  });
});

describe('timeout fallbacks', () => {
  let t: TestServer;
  let admin: Person;
  let ops: Caller;
  const policy = `policy: ops-runbooks
appliesTo: { roles: [ops] }
tools:
  restart_service:
    args:
      service: { type: string }
rules:
  - id: restart-core
    tool: restart_service
    when: args.service == "core"
    effect: require_approval
    approval: { approvers: [sre], timeout: 5m }
  - id: restart-edge
    tool: restart_service
    when: args.service == "edge"
    effect: require_approval
    approval: { approvers: [sre], timeout: 5m, onTimeout: allow, expiresIn: 30m }
`;

  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.admin();
    ops = (await activateWith(t.url, admin, [{ file: 'ops.yaml', text: policy }], { id: 'ops-bot-1', role: 'ops' })) as Caller;
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('blocks by default when nobody decides in time, and audits it', async () => {
    const args = { service: 'core' };
    const { body } = await ops.post<Decision>('/v1/decide', { tool: 'restart_service', args });
    const id = body.approval.id;
    expect(body.approval).toMatchObject({ approvers: ['sre'], deadlineAt: expect.any(String) });
    await t.clock.advance(5 * MINUTE);
    const timedOut = await admin.get<AuditPage>('/v1/audit?type=approval.timed_out&limit=10');
    expect(timedOut.body.records.find((r) => r.data.approval === id)).toMatchObject({ actor: 'system', data: { action: 'block', tier: 'tier-1', timeout: '5m' } });
    const approval = (await ops.get<Approval>(`/v1/approvals/${id}`)).body;
    expect(approval).toMatchObject({ status: 'expired', resolvedBy: 'system' });
    expect(approval.resolutionReason).toContain('blocked');
    expect((await ops.post(`/v1/approvals/${id}/redeem`, { tool: 'restart_service', args })).body).toMatchObject({ error: { code: 'approval_expired' } });
    expect((await admin.post(`/v1/approvals/${id}/approve`, { reason: 'too late' })).body).toMatchObject({ error: { code: 'approval_expired' } });
  });

  it('approves when the route says onTimeout: allow, and the agent can still redeem', async () => {
    const args = { service: 'edge' };
    const { body } = await ops.post<Decision>('/v1/decide', { tool: 'restart_service', args });
    const id = body.approval.id;
    await t.clock.advance(5 * MINUTE);
    expect((await ops.get<Approval>(`/v1/approvals/${id}`)).body).toMatchObject({ status: 'approved', resolvedBy: 'system' });
    expect((await ops.post<Approval>(`/v1/approvals/${id}/redeem`, { tool: 'restart_service', args })).body.status).toBe('redeemed');
  });

  it('does not time out an approval decided before its deadline', async () => {
    const { body } = await ops.post<Decision>('/v1/decide', { tool: 'restart_service', args: { service: 'core' } });
    const sre = (await people(t.url, admin, { sre: { groups: ['sre'] } })).sre as Person;
    expect((await sre.post<Approval>(`/v1/approvals/${body.approval.id}/approve`, { reason: 'go' })).body.status).toBe('approved');
    await t.clock.advance(5 * MINUTE);
    expect((await ops.get<Approval>(`/v1/approvals/${body.approval.id}`)).body.status).toBe('approved');
  });
});

describe('approver groups', () => {
  let t: TestServer;
  let admin: Person;
  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.admin();
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('gives the first admin the groups of the example policies', async () => {
    const { body } = await admin.get<{ users: { username: string; groups: string[] }[] }>('/v1/users');
    expect(body.users.find((u) => u.username === 'admin')?.groups).toEqual(['finance-approvers', 'ops-managers', 'platform-team', 'sre-oncall', 'support-leads', 'support-managers']);
  });

  it('lets an admin replace a person’s groups (audited); the change applies to their next action', async () => {
    const { lead } = await people(t.url, admin, { lead: { groups: [] } });
    const { body: decision } = await t.agent('support-bot-1').post<Decision>('/v1/decide', { tool: 'issue_refund', args: { account_id: 'G-1', amount: 70, currency: 'USD' } });
    expect((await lead!.post(`/v1/approvals/${decision.approval.id}/approve`, { reason: 'ok' })).body).toMatchObject({ error: { code: 'not_entitled' } });

    const set = await admin.post<{ groups: string[] }>('/v1/users/lead/groups', { groups: ['support-leads', 'support-leads', 'auditors'] });
    expect(set).toMatchObject({ status: 200, body: { groups: ['auditors', 'support-leads'] } });
    expect((await lead!.get<{ user: { groups: string[] } }>('/v1/auth/session')).body.user.groups).toEqual(['auditors', 'support-leads']);
    expect((await lead!.post<Approval>(`/v1/approvals/${decision.approval.id}/approve`, { reason: 'ok' })).body.status).toBe('approved');

    const audit = await admin.get<AuditPage>('/v1/audit?type=user.groups_changed&limit=5');
    expect(audit.body.records[0]).toMatchObject({ actor: 'user:admin', data: { username: 'lead', groups: ['auditors', 'support-leads'], previous: [] } });
  });

  it('keeps group changes to admins, and refuses unknown people and malformed groups', async () => {
    const { approver } = await people(t.url, admin, { approver: { groups: ['support-leads'] } });
    expect((await approver!.post('/v1/users/approver/groups', { groups: ['finance-approvers'] })).status).toBe(403);
    expect((await admin.post('/v1/users/nobody/groups', { groups: [] })).status).toBe(404);
    expect((await admin.post('/v1/users/approver/groups', { groups: ['has space'] })).body).toMatchObject({ error: { code: 'invalid_request', param: 'body.groups.0' } });
  });
});

describe('approval stats', () => {
  let t: TestServer;
  let admin: Person;
  let p: Record<string, Person>;

  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.admin();
    p = await people(t.url, admin, { lead: { groups: ['support-leads'] }, manager: { groups: ['support-managers'] }, 'fin-1': { groups: ['finance-approvers'] } });
  });
  afterAll(async () => {
    await t.dispose();
  });

  interface RuleStats {
    rule: string | null;
    requested: number;
    granted: number;
    denied: number;
    edited: number;
    timedOutBlocked: number;
    timedOutAllowed: number;
    expired: number;
    pending: number;
    escalated: number;
    grantRate: number | null;
    timeToDecisionMs: { count: number; mean: number | null; median: number | null; p90: number | null; max: number | null };
  }

  it('counts per rule how approvals were granted, denied, edited, escalated, and how long decisions took', async () => {
    const start = t.clock.now();
    const support = t.agent('support-bot-1');
    const open = async (amount: number) => (await support.post<Decision>('/v1/decide', { tool: 'issue_refund', args: { account_id: `ST-${amount}`, amount, currency: 'USD' } })).body.approval.id;
    const [a, b, , d] = [await open(75), await open(80), await open(85), await open(300)];
    const { body: payment } = await t.agent('finance-bot-1').post<Decision>('/v1/decide', { tool: 'make_payment', args: { amount: 12_000, currency: 'USD', payee: 'S' } });

    await t.clock.advance(MINUTE);
    await p.lead!.post(`/v1/approvals/${b}/deny`, { reason: 'no' });
    await t.clock.advance(MINUTE);
    await p.lead!.post(`/v1/approvals/${a}/approve`, { reason: 'less', args: { account_id: 'ST-75', amount: 60, currency: 'USD' } });
    await t.clock.advance(2 * MINUTE);
    await p.manager!.post(`/v1/approvals/${d}/approve`, { reason: 'ok' });
    await p['fin-1']!.post(`/v1/approvals/${payment.approval.id}/approve`, { reason: 'first of two' });
    // The $85 refund is still with the leads after 10 minutes: it escalates.
    await t.clock.advance(6 * MINUTE);

    const { status, body } = await admin.get<{ rules: RuleStats[] }>('/v1/approvals/stats');
    expect(status).toBe(200);
    expect(body.rules.find((r) => r.rule === 'refund-medium')).toEqual({
      rule: 'refund-medium',
      requested: 4,
      granted: 2,
      denied: 1,
      edited: 1,
      timedOutBlocked: 0,
      timedOutAllowed: 0,
      expired: 0,
      pending: 1,
      escalated: 1,
      grantRate: 2 / 3,
      timeToDecisionMs: { count: 3, mean: 140_000, median: 120_000, p90: 240_000, max: 240_000 },
      bots: { count: 0, median: null },
    });
    expect(body.rules.find((r) => r.rule === 'payment-medium')).toMatchObject({ requested: 1, pending: 1, granted: 0, grantRate: null, timeToDecisionMs: { count: 0 } });

    const one = await admin.get<{ rules: RuleStats[] }>('/v1/approvals/stats?rule=payment-medium');
    expect(one.body.rules.map((r) => r.rule)).toEqual(['payment-medium']);
    const later = new Date(t.clock.now() + MINUTE).toISOString();
    expect((await admin.get<{ rules: RuleStats[] }>(`/v1/approvals/stats?from=${encodeURIComponent(later)}`)).body.rules).toEqual([]);
    const before = new Date(start).toISOString();
    expect((await admin.get<{ rules: RuleStats[] }>(`/v1/approvals/stats?to=${encodeURIComponent(before)}`)).body.rules).toEqual([]);
    // Agents do not get statistics.
    expect((await support.get('/v1/approvals/stats')).status).toBe(403);
  });
});
