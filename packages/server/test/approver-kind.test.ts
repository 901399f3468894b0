import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agent as bearer, signIn, type Person } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';
import { dropSchema, uniqueName } from './support/shared-services.js';
import { serverStores } from './support/stores.js';

const PASSWORD = 'a long enough password';
const MINUTE = 60_000;

interface Approval {
  id: string;
  status: string;
  resolvedBy: string | null;
  resolvedByKind: string | null;
  approvals: { by: string; kind: string }[];
}

interface Overview {
  approvals: { resolved: number; medianMs: number | null; bots: { resolved: number; medianMs: number | null }; automatic: number };
}

interface RuleStats {
  rule: string | null;
  granted: number;
  denied: number;
  timeToDecisionMs: { count: number; median: number | null; p90: number | null; max: number | null };
  bots: { count: number; median: number | null };
}

describe.each(serverStores)('approver kind: people and bots counted apart on $name', ({ name, options }) => {
  let t: TestServer;
  let admin: Person;
  let lead: Person;
  let from: string;
  const schema = uniqueName('approver_kind');

  beforeAll(async () => {
    t = await startTestServer(options(schema));
    admin = await t.admin();
    expect((await admin.post('/v1/users', { username: 'lead', password: PASSWORD, role: 'approver', groups: ['support-leads'] })).status).toBe(201);
    const bot = await admin.post<{ kind: string }>('/v1/users', { username: 'harness', password: PASSWORD, role: 'approver', groups: ['support-leads'], kind: 'bot' });
    expect(bot.status).toBe(201);
    expect(bot.body.kind).toBe('bot');
    lead = await signIn(t.url, 'lead', PASSWORD);
    from = new Date(t.clock.now()).toISOString();
  });
  afterAll(async () => {
    await t?.dispose();
    if (name === 'PostgreSQL') await dropSchema(schema);
  });

  let account = 0;
  /** A $75 refund to a fresh account: refund-medium asks support-leads for approval. */
  async function pendingRefund(): Promise<string> {
    const { body } = await t.agent('support-bot-1').post<{ effect: string; approval: { id: string } }>('/v1/decide', {
      tool: 'issue_refund',
      args: { account_id: `KIND-${++account}`, amount: 75, currency: 'USD' },
    });
    expect(body.effect).toBe('require_approval');
    return body.approval.id;
  }

  it('the median time to decision is people\'s: bots that decide at once are counted apart', async () => {
    const harness = await signIn(t.url, 'harness', PASSWORD);
    // The bot decides three approvals the instant they open (two approvals, one denial).
    for (const action of ['approve', 'approve', 'deny']) {
      const id = await pendingRefund();
      const decided = await harness.post<Approval>(`/v1/approvals/${id}/${action}`, { reason: 'harness' });
      expect(decided.status).toBe(200);
      expect(decided.body).toMatchObject({ resolvedBy: 'harness', resolvedByKind: 'bot' });
    }
    // A person approves one after seven minutes.
    const waited = await pendingRefund();
    await t.clock.advance(7 * MINUTE);
    const approved = await lead.post<Approval>(`/v1/approvals/${waited}/approve`, { reason: 'checked the account' });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ resolvedBy: 'lead', resolvedByKind: 'person', approvals: [{ by: 'lead', kind: 'person' }] });

    const to = new Date(t.clock.now() + 1).toISOString();
    const overview = await admin.get<Overview>(`/v1/stats/overview?${new URLSearchParams({ from, to }).toString()}`);
    expect(overview.status).toBe(200);
    expect(overview.body.approvals).toMatchObject({ resolved: 1, medianMs: 7 * MINUTE, bots: { resolved: 3, medianMs: 0 }, automatic: 0 });

    const stats = await admin.get<{ rules: RuleStats[] }>(`/v1/approvals/stats?${new URLSearchParams({ from, to }).toString()}`);
    expect(stats.status).toBe(200);
    const rule = stats.body.rules.find((r) => r.rule === 'refund-medium');
    expect(rule).toMatchObject({
      granted: 3,
      denied: 1,
      timeToDecisionMs: { count: 1, median: 7 * MINUTE, p90: 7 * MINUTE, max: 7 * MINUTE },
      bots: { count: 3, median: 0 },
    });

    // The audit trail records which kind of account decided.
    const audit = await admin.get<{ records: { type: string; actor: string; data: { kind?: string } }[] }>('/v1/audit?limit=100');
    const decisions = audit.body.records.filter((r) => r.type === 'approval.approved' || r.type === 'approval.denied').map((r) => `${r.actor} ${r.data.kind}`);
    expect(decisions.sort()).toEqual(['user:harness bot', 'user:harness bot', 'user:harness bot', 'user:lead person'].sort());
  });

  it('a person acting through their API token is still a person', async () => {
    const created = await lead.post<{ token: string }>('/v1/tokens', { name: 'cli' });
    expect(created.status).toBe(201);
    const id = await pendingRefund();
    const approved = await bearer(t.url, created.body.token).post<Approval>(`/v1/approvals/${id}/approve`, { reason: 'from the terminal' });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ resolvedBy: 'lead', resolvedByKind: 'person', approvals: [{ by: 'lead', kind: 'person' }] });
  });

  it('only an admin creates accounts, bots included; the kind is checked and listed', async () => {
    const refused = await lead.post('/v1/users', { username: 'sneaky', password: PASSWORD, role: 'approver', kind: 'bot' });
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    const invalid = await admin.post('/v1/users', { username: 'odd', password: PASSWORD, role: 'approver', kind: 'robot' });
    expect(invalid).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    const { status, body } = await admin.get<{ users: { username: string; kind: string }[] }>('/v1/users');
    expect(status).toBe(200);
    expect(Object.fromEntries(body.users.map((u) => [u.username, u.kind]))).toEqual({ admin: 'person', lead: 'person', harness: 'bot' });
    const session = await admin.get<{ user: { kind: string } }>('/v1/auth/session');
    expect(session.body.user.kind).toBe('person');
  });
});
