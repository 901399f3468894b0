import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from './support/cluster.js';
import type { Caller, Person } from './support/http.js';
import { ManualClock } from './support/manual-clock.js';
import { activateWith, people } from './support/people.js';
import { startTestServer, type TestServer } from './support/server.js';
import { deleteRedisPrefix } from './support/shared-services.js';

/**
 * Approvals and limits (docs/approvals.md): a call waiting for approval holds what it consumed of
 * the limits as a reservation; an approval that ends without its call running releases it, once,
 * and the release is audited so a restart does not charge it again. An approver's edit is decided
 * again as a new call, policy and limits, charged to its own counters in place of the original.
 */

interface Decision {
  id: string;
  effect: string;
  rule: string | null;
  approval?: { id: string };
}

interface Approval {
  id: string;
  status: string;
  args: Record<string, unknown>;
}

interface AuditPage {
  records: { type: string; data: Record<string, unknown> }[];
}

const MINUTE = 60_000;

/** A policy of our own: a $100 budget that asks for approval, a $1,000 cap that blocks, five calls per account an hour, a 5-minute timeout that blocks. */
const LEDGER = `
policy: ledger
appliesTo:
  roles: [ledger]
default: block
tools:
  spend:
    args:
      account_id: { type: string, minLength: 1, maxLength: 64 }
      amount: { type: number, minimum: 0 }
rules:
  - id: spend-small
    tool: spend
    when: args.amount <= 50
    effect: allow
  - id: spend-reviewed
    tool: spend
    when: args.amount > 50
    effect: require_approval
    approval: { approvers: [ledger-approvers, ledger-leads], timeout: 5m }
limits:
  - id: spend-budget
    tools: [spend]
    key: [args.account_id]
    sum: args.amount
    max: 100
    window: 24h
    effect: require_approval
    approvers: [ledger-approvers]
  - id: spend-cap
    tools: [spend]
    key: [args.account_id]
    sum: args.amount
    max: 1000
    window: 24h
    effect: block
    reason: More than $1,000 to one account in a day is never allowed
  - id: spend-rate
    tools: [spend]
    key: [args.account_id]
    max: 5
    window: 1h
    effect: block
`;

describe('approvals and limits (SQLite, in-memory counters)', () => {
  let t: TestServer;
  let admin: Person;
  let p: Record<string, Person>;
  let ledger: Caller;
  let n = 0;
  /** A fresh account name. */
  const account = (label: string): string => `${label}-${++n}`;

  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.admin();
    p = await people(t.url, admin, { approver: { groups: ['ledger-approvers', 'support-leads'] }, lead: { groups: ['ledger-leads'] } });
    ledger = (await activateWith(t.url, admin, [{ file: 'ledger.yaml', text: LEDGER }], { id: 'ledger-bot-1', role: 'ledger' })) as Caller;
  });
  afterAll(async () => {
    await t.dispose();
  });

  const support = (): Caller => t.agent('support-bot-1');

  async function refund(accountId: string, amount: number): Promise<Decision> {
    const { status, body } = await support().post<Decision>('/v1/decide', { tool: 'issue_refund', args: { account_id: accountId, amount, currency: 'USD' } });
    expect(status).toBe(200);
    return body;
  }

  async function spend(accountId: string, amount: number): Promise<Decision> {
    const { status, body } = await ledger.post<Decision>('/v1/decide', { tool: 'spend', args: { account_id: accountId, amount } });
    expect(status).toBe(200);
    return body;
  }

  /** The account's refund budget is whole: $50 and $50 are allowed, and a dollar more asks for approval. */
  async function expectRefundBudgetFree(accountId: string): Promise<void> {
    expect(await refund(accountId, 50)).toMatchObject({ effect: 'allow', rule: 'refund-small' });
    expect(await refund(accountId, 50)).toMatchObject({ effect: 'allow', rule: 'refund-small' });
    expect(await refund(accountId, 1)).toMatchObject({ effect: 'require_approval', rule: 'refund-budget' });
  }

  async function openRefund(accountId: string, amount = 75): Promise<string> {
    const decision = await refund(accountId, amount);
    expect(decision.effect).toBe('require_approval');
    return decision.approval?.id as string;
  }

  it('a denied $75 refund frees the account’s budget: $50 + $50 are allowed again', async () => {
    const a = account('DENY');
    const id = await openRefund(a);
    const denied = await admin.post<Approval>(`/v1/approvals/${id}/deny`, { reason: 'not owed' });
    expect(denied.body.status).toBe('denied');
    await expectRefundBudgetFree(a);
    // The release is in the denial's own audit record, with what it takes back.
    const trail = await admin.get<AuditPage>('/v1/audit?type=approval.denied&limit=20');
    expect(trail.body.records.find((r) => r.data.approval === id)?.data).toMatchObject({
      released: { limits: [{ limit: 'refund-budget', kind: 'budget', adding: 75, window: '24h' }] },
    });
    // Approved and redeemed, the call ran: its charge stays.
    const ran = account('REDEEM');
    const approved = await openRefund(ran);
    await admin.post(`/v1/approvals/${approved}/approve`, { reason: 'owed' });
    expect((await support().post(`/v1/approvals/${approved}/redeem`, { tool: 'issue_refund', args: { account_id: ran, amount: 75, currency: 'USD' } })).status).toBe(200);
    expect(await refund(ran, 50)).toMatchObject({ effect: 'require_approval', rule: 'refund-budget' });
  });

  it('releases once when 100 people deny the same approval at the same time', async () => {
    const a = account('DENY100');
    const id = await openRefund(a);
    const denials = await Promise.all(Array.from({ length: 100 }, () => admin.post(`/v1/approvals/${id}/deny`, { reason: 'no' })));
    expect(denials.filter((r) => r.status === 200)).toHaveLength(1);
    expect(denials.filter((r) => r.status === 409)).toHaveLength(99);
    await expectRefundBudgetFree(a);
  });

  it('an expired approval frees the budget, once, however many readers see it expire', async () => {
    // $300 goes to the managers' tier, which has no timeout: only the 15-minute expiry applies.
    const alone = account('EXPIRE');
    const many = account('EXPIRE100');
    const first = await openRefund(alone, 300);
    const second = await openRefund(many, 300);
    await t.clock.advance(15 * MINUTE);
    expect((await admin.get<Approval>(`/v1/approvals/${first}`)).body.status).toBe('expired');
    const reads = await Promise.all(Array.from({ length: 100 }, () => support().get<Approval>(`/v1/approvals/${second}`)));
    expect(reads.every((r) => r.body.status === 'expired')).toBe(true);
    await expectRefundBudgetFree(alone);
    await expectRefundBudgetFree(many);
  });

  it('an approval that times out to a block frees the budget', async () => {
    const a = account('TIMEOUT');
    const { approval } = await spend(a, 75);
    await t.clock.advance(5 * MINUTE);
    expect((await ledger.get<Approval>(`/v1/approvals/${approval?.id}`)).body.status).toBe('expired');
    expect(await spend(a, 50)).toMatchObject({ effect: 'allow' });
    expect(await spend(a, 50)).toMatchObject({ effect: 'allow' });
    expect(await spend(a, 1)).toMatchObject({ effect: 'require_approval', rule: 'spend-budget' });
  });

  it('a denied call gives back its place in a rate limit too', async () => {
    const a = account('RATE');
    const { approval } = await spend(a, 75);
    for (let i = 0; i < 4; i++) expect((await spend(a, 1)).effect).toBe('allow');
    expect(await spend(a, 1)).toMatchObject({ effect: 'block', rule: 'spend-rate' });
    await p.approver!.post(`/v1/approvals/${approval?.id}/deny`, { reason: 'no' });
    expect((await spend(a, 1)).effect).toBe('allow');
    expect(await spend(a, 1)).toMatchObject({ effect: 'block', rule: 'spend-rate' });
  });

  it('an edit moving a $75 refund from account A to B charges B and frees A', async () => {
    const a = account('EDIT-A');
    const b = account('EDIT-B');
    const id = await openRefund(a);
    const edited = await admin.post<Approval>(`/v1/approvals/${id}/approve`, { reason: 'wrong account', args: { account_id: b, amount: 75, currency: 'USD' } });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ status: 'approved', args: { account_id: b } });
    await expectRefundBudgetFree(a);
    expect(await refund(b, 50)).toMatchObject({ effect: 'require_approval', rule: 'refund-budget' });
    const trail = await admin.get<AuditPage>('/v1/audit?type=approval.approved&limit=20');
    expect(trail.body.records.find((r) => r.data.approval === id)?.data).toMatchObject({
      charged: { limits: [{ limit: 'refund-budget', key: expect.stringContaining(b), adding: 75 }] },
      released: { limits: [{ limit: 'refund-budget', key: expect.stringContaining(a), adding: 75 }] },
    });
  });

  it('an edited call that then expires unredeemed frees the edited account, not the original twice', async () => {
    const a = account('EDIT-EXP-A');
    const b = account('EDIT-EXP-B');
    const id = await openRefund(a);
    await admin.post(`/v1/approvals/${id}/approve`, { reason: 'wrong account', args: { account_id: b, amount: 75, currency: 'USD' } });
    await t.clock.advance(15 * MINUTE);
    expect((await admin.get<Approval>(`/v1/approvals/${id}`)).body.status).toBe('expired');
    await expectRefundBudgetFree(a);
    await expectRefundBudgetFree(b);
  });

  it('refuses an edit a blocking limit would block: nothing is charged, the original stays reserved', async () => {
    const x = account('CAP-X');
    const c = account('CAP-C');
    const { approval } = await spend(x, 75);
    // Two $500 calls waiting for approval hold C's whole $1,000 cap.
    const held = [await spend(c, 500), await spend(c, 500)];
    expect(held.map((d) => d.effect)).toEqual(['require_approval', 'require_approval']);
    const refused = await p.approver!.post(`/v1/approvals/${approval?.id}/approve`, { reason: 'other account', args: { account_id: c, amount: 75 } });
    expect(refused).toMatchObject({ status: 422, body: { error: { code: 'edit_blocked', rule: 'spend-cap', limit: 'spend-cap' } } });
    expect((await ledger.get<Approval>(`/v1/approvals/${approval?.id}`)).body).toMatchObject({ status: 'pending', args: { account_id: x } });
    expect(await spend(x, 50)).toMatchObject({ effect: 'require_approval', rule: 'spend-budget' });
    for (const d of held) await p.approver!.post(`/v1/approvals/${d.approval?.id}/deny`, { reason: 'no' });
    expect(await spend(c, 50)).toMatchObject({ effect: 'allow' });
    expect(await spend(c, 50)).toMatchObject({ effect: 'allow' });
  });

  it('an edit the limits send to approval is granted by an approver entitled to that tier, and charged', async () => {
    const x = account('LIM-X');
    const d = account('LIM-D');
    const { approval } = await spend(x, 75);
    expect((await spend(d, 50)).effect).toBe('allow');
    expect((await spend(d, 20)).effect).toBe('allow');
    // $40 is allowed by the rules, but D's budget would reach $110: spend-budget asks ledger-approvers.
    const granted = await p.approver!.post<Approval>(`/v1/approvals/${approval?.id}/approve`, { reason: 'other account', args: { account_id: d, amount: 40 } });
    expect(granted.body).toMatchObject({ status: 'approved', args: { account_id: d, amount: 40 } });
    expect((await spend(x, 50)).effect).toBe('allow');
    expect((await spend(x, 50)).effect).toBe('allow');
    expect(await spend(d, 1)).toMatchObject({ effect: 'require_approval', rule: 'spend-budget' });
  });

  it('refuses an approver not entitled to the tier the limits send the edited call to, and takes its charge back', async () => {
    const x = account('ENT-X');
    const d = account('ENT-D');
    const { approval } = await spend(x, 75);
    expect((await spend(d, 50)).effect).toBe('allow');
    expect((await spend(d, 20)).effect).toBe('allow');
    // A ledger lead may approve spend-reviewed, but not a call over the budget (ledger-approvers).
    const refused = await p.lead!.post(`/v1/approvals/${approval?.id}/approve`, { reason: 'other account', args: { account_id: d, amount: 40 } });
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'not_entitled' } } });
    expect((await ledger.get<Approval>(`/v1/approvals/${approval?.id}`)).body.status).toBe('pending');
    // D holds $70: $30 more fits (the refused edit's $40 was taken back); X still holds $75.
    expect(await spend(d, 30)).toMatchObject({ effect: 'allow' });
    expect(await spend(x, 50)).toMatchObject({ effect: 'require_approval', rule: 'spend-budget' });
  });

  it.each([1, 100])('a deny racing an approve-and-redeem either releases or runs, never both (%i at once)', async (copies) => {
    const accounts = Array.from({ length: copies }, () => account('RACE'));
    const ids = await Promise.all(accounts.map((a) => openRefund(a)));
    const args = (a: string) => ({ account_id: a, amount: 75, currency: 'USD' });
    const outcomes = await Promise.all(
      ids.map(async (id, i) => {
        const [deny, redeemed] = await Promise.all([
          admin.post(`/v1/approvals/${id}/deny`, { reason: 'no' }),
          (async () => {
            const approve = await admin.post(`/v1/approvals/${id}/approve`, { reason: 'yes' });
            if (approve.status !== 200) return false;
            const redeem = await support().post(`/v1/approvals/${id}/redeem`, { tool: 'issue_refund', args: args(accounts[i] as string) });
            return redeem.status === 200;
          })(),
        ]);
        return { denied: deny.status === 200, redeemed };
      }),
    );
    for (const [i, outcome] of outcomes.entries()) {
      expect(outcome.denied !== outcome.redeemed).toBe(true);
      // $30 more: allowed when the refund was released, over the $100 budget when it ran.
      const next = await refund(accounts[i] as string, 30);
      expect(next.effect).toBe(outcome.denied ? 'allow' : 'require_approval');
    }
  });

  it('a restart does not charge a denied approval again, and keeps an edit’s charge where it moved', async () => {
    const denied = account('RESTART-DENY');
    const a = account('RESTART-A');
    const b = account('RESTART-B');
    const deniedId = await openRefund(denied);
    await admin.post(`/v1/approvals/${deniedId}/deny`, { reason: 'no' });
    const editedId = await openRefund(a);
    await admin.post(`/v1/approvals/${editedId}/approve`, { reason: 'wrong account', args: { account_id: b, amount: 75, currency: 'USD' } });
    await t.restart();
    admin = await t.admin();
    await expectRefundBudgetFree(denied);
    await expectRefundBudgetFree(a);
    expect(await refund(b, 50)).toMatchObject({ effect: 'require_approval', rule: 'refund-budget' });
  });
});

describe('approvals and limits on three instances (PostgreSQL + Redis)', () => {
  let cluster: Cluster;
  const clock = new ManualClock();
  let n = 0;
  const account = (label: string): string => `${label}-${++n}`;
  beforeAll(async () => {
    cluster = await startCluster(3, { clock });
  }, 120_000);
  afterAll(async () => {
    await cluster?.dispose();
  });

  async function refund(instance: number, accountId: string, amount: number): Promise<Decision> {
    const { status, body } = await cluster.agent(instance % 3, 'support-bot-1').post<Decision>('/v1/decide', { tool: 'issue_refund', args: { account_id: accountId, amount, currency: 'USD' } });
    expect(status).toBe(200);
    return body;
  }

  /** $50 and $50 allowed, a dollar more asks for approval: asked of every instance in turn. */
  async function expectRefundBudgetFree(accountId: string): Promise<void> {
    expect(await refund(1, accountId, 50)).toMatchObject({ effect: 'allow', rule: 'refund-small' });
    expect(await refund(2, accountId, 50)).toMatchObject({ effect: 'allow', rule: 'refund-small' });
    expect(await refund(0, accountId, 1)).toMatchObject({ effect: 'require_approval', rule: 'refund-budget' });
  }

  async function openRefund(accountId: string, amount = 75): Promise<string> {
    const decision = await refund(0, accountId, amount);
    expect(decision.effect).toBe('require_approval');
    return decision.approval?.id as string;
  }

  it('a denial on one instance frees the budget on every instance', async () => {
    const a = account('C-DENY');
    const id = await openRefund(a);
    const admin = await cluster.admin(1);
    expect((await admin.post<Approval>(`/v1/approvals/${id}/deny`, { reason: 'no' })).body.status).toBe('denied');
    await expectRefundBudgetFree(a);
  });

  it('releases once when 100 denials of one approval arrive at three instances at once', async () => {
    const a = account('C-DENY100');
    const id = await openRefund(a);
    const admins = await Promise.all([0, 1, 2].map((i) => cluster.admin(i)));
    const denials = await Promise.all(Array.from({ length: 100 }, (_, i) => (admins[i % 3] as Person).post(`/v1/approvals/${id}/deny`, { reason: 'no' })));
    expect(denials.filter((r) => r.status === 200)).toHaveLength(1);
    expect(denials.filter((r) => r.status === 409)).toHaveLength(99);
    await expectRefundBudgetFree(a);
  });

  it('an expiry seen by 100 readers on three instances frees the budget once', async () => {
    const a = account('C-EXPIRE');
    const id = await openRefund(a, 300);
    await clock.advance(15 * MINUTE);
    const reads = await Promise.all(Array.from({ length: 100 }, (_, i) => cluster.agent(i % 3, 'support-bot-1').get<Approval>(`/v1/approvals/${id}`)));
    expect(reads.every((r) => r.body.status === 'expired')).toBe(true);
    await expectRefundBudgetFree(a);
  });

  it('an edit on one instance moves the charge from account A to B for every instance', async () => {
    const a = account('C-EDIT-A');
    const b = account('C-EDIT-B');
    const id = await openRefund(a);
    const admin = await cluster.admin(2);
    const edited = await admin.post<Approval>(`/v1/approvals/${id}/approve`, { reason: 'wrong account', args: { account_id: b, amount: 75, currency: 'USD' } });
    expect(edited.body).toMatchObject({ status: 'approved', args: { account_id: b } });
    await expectRefundBudgetFree(a);
    expect(await refund(1, b, 50)).toMatchObject({ effect: 'require_approval', rule: 'refund-budget' });
  });

  it('counters rebuilt from the audit trail after Redis lost them keep releases released and edits moved', async () => {
    const denied = account('C-LOST-DENY');
    const a = account('C-LOST-A');
    const b = account('C-LOST-B');
    const admin = await cluster.admin(0);
    const deniedId = await openRefund(denied);
    await admin.post(`/v1/approvals/${deniedId}/deny`, { reason: 'no' });
    const editedId = await openRefund(a);
    await admin.post(`/v1/approvals/${editedId}/approve`, { reason: 'wrong account', args: { account_id: b, amount: 75, currency: 'USD' } });
    await deleteRedisPrefix(cluster.prefix);
    // The first limited calls block (store_unavailable) while an instance rebuilds; wait for it.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const probe = await refund(0, account('C-PROBE'), 1);
      if (probe.effect === 'allow') break;
      if (Date.now() > deadline) throw new Error('the counters were not rebuilt');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await expectRefundBudgetFree(denied);
    await expectRefundBudgetFree(a);
    expect(await refund(2, b, 50)).toMatchObject({ effect: 'require_approval', rule: 'refund-budget' });
  }, 60_000);
});
