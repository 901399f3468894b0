import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agent, signIn, type Caller, type Person } from './support/http.js';
import { readEvents } from './support/sse.js';
import { startTestServer, type TestServer } from './support/server.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const PASSWORD = 'a viewer password 123';

interface Counts {
  allow: number;
  require_approval: number;
  block: number;
}

const refund = (account: string, amount: number) => ({ tool: 'issue_refund', args: { account_id: account, amount, currency: 'USD' } });
const deleteProduction = { tool: 'delete_resource', args: { resource_id: 'db-1', environment: 'production' } };

describe('dashboard read endpoints', () => {
  let t: TestServer;
  let admin: Person;
  let viewer: Person;
  let support: Caller;
  let devops: Caller;
  /** The start of an hour; every decision below happens in the ten minutes after it. */
  let h0: number;
  let pendingId: string;
  const iso = (ms: number) => new Date(ms).toISOString();

  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.admin();
    expect((await admin.post('/v1/users', { username: 'viewer1', password: PASSWORD, role: 'viewer' })).status).toBe(201);
    viewer = await signIn(t.url, 'viewer1', PASSWORD);
    expect((await admin.post('/v1/agents', { id: 'dev-bot', role: 'support', environment: 'dev' })).status).toBe(201);
    const devKey = (await admin.post<{ key: string }>('/v1/agents/dev-bot/keys')).body.key;
    support = t.agent('support-bot-1');
    devops = t.agent('devops-bot-1');

    t.clock.advance(HOUR - (t.clock.now() % HOUR));
    h0 = t.clock.now();
    expect((await support.post('/v1/decide', refund('A-1', 10))).body).toMatchObject({ effect: 'allow' });
    expect((await support.post('/v1/decide', { tool: 'export_customers', args: {} })).body).toMatchObject({ effect: 'block', rule: 'export-customers' });
    t.clock.advance(MINUTE);
    expect((await support.post('/v1/decide', refund('A-2', 600))).body).toMatchObject({ effect: 'block', rule: 'refund-large' });
    expect((await devops.post('/v1/decide', deleteProduction)).body).toMatchObject({ effect: 'block', rule: 'delete-production' });
    t.clock.advance(MINUTE);
    const medium = await support.post<{ approval: { id: string } }>('/v1/decide', refund('A-3', 75));
    expect((await agent(t.url, devKey).post('/v1/decide', refund('D-1', 10))).body).toMatchObject({ effect: 'allow' });
    t.clock.advance(90_000);
    expect((await admin.post(`/v1/approvals/${medium.body.approval.id}/approve`, { reason: 'known customer' })).status).toBe(200);
    pendingId = (await support.post<{ approval: { id: string } }>('/v1/decide', refund('C-9', 80))).body.approval.id;
    t.clock.advance(1);
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('overview: series by effect per bucket, top blocked tools and rules, environments, approvals', async () => {
    const { status, body } = await viewer.get<{
      from: string;
      bucketMs: number;
      series: ({ start: string } & Counts)[];
      totals: Counts;
      topBlockedTools: { value: string; count: number }[];
      topBlockedRules: { value: string; count: number }[];
      environments: ({ environment: string } & Counts)[];
      approvals: { pending: number; resolved: number; medianMs: number | null };
    }>(`/v1/stats/overview?from=${iso(h0)}&to=${iso(h0 + 10 * MINUTE)}&bucket=1m`);
    expect(status).toBe(200);
    expect(body.bucketMs).toBe(MINUTE);
    expect(body.series).toHaveLength(10);
    expect(body.series.slice(0, 4)).toEqual([
      { start: iso(h0), allow: 1, require_approval: 0, block: 1 },
      { start: iso(h0 + MINUTE), allow: 0, require_approval: 0, block: 2 },
      { start: iso(h0 + 2 * MINUTE), allow: 1, require_approval: 1, block: 0 },
      // 90 s later: the $80 refund.
      { start: iso(h0 + 3 * MINUTE), allow: 0, require_approval: 1, block: 0 },
    ]);
    expect(body.totals).toEqual({ allow: 2, require_approval: 2, block: 3 });
    expect(body.topBlockedTools).toEqual([
      { value: 'delete_resource', count: 1 },
      { value: 'export_customers', count: 1 },
      { value: 'issue_refund', count: 1 },
    ]);
    expect(body.topBlockedRules.map((r) => r.value)).toEqual(['delete-production', 'export-customers', 'refund-large']);
    expect(body.environments).toEqual([
      { environment: 'dev', allow: 1, require_approval: 0, block: 0 },
      { environment: 'production', allow: 1, require_approval: 2, block: 3 },
    ]);
    expect(body.approvals).toMatchObject({ pending: 1, resolved: 1, medianMs: 90_000, automatic: 0, oldestPending: { id: pendingId } });
  });

  it('overview: aligns buckets, defaults to the last 24 hours, refuses bad ranges', async () => {
    const aligned = await viewer.get<{ from: string; series: Counts[] }>(`/v1/stats/overview?from=${iso(h0 + 30_000)}&to=${iso(h0 + 2 * MINUTE)}&bucket=1m`);
    expect(aligned.body.from).toBe(iso(h0));
    expect(aligned.body.series).toHaveLength(2);
    const defaults = await viewer.get<{ to: string; bucketMs: number; series: unknown[] }>('/v1/stats/overview');
    expect(defaults.body.to).toBe(iso(t.clock.now()));
    expect(defaults.body.bucketMs).toBe(15 * MINUTE);
    for (const query of [`from=${iso(h0)}&to=${iso(h0)}`, 'bucket=1s', 'bucket=soon', 'from=yesterday']) {
      const reply = await viewer.get(`/v1/stats/overview?${query}`);
      expect(reply.status, query).toBe(400);
      expect(reply.body, query).toMatchObject({ error: { code: 'invalid_request' } });
    }
  });

  it('fleet: every agent with last seen, mix, trend and the blocked-rate flag', async () => {
    for (let i = 0; i < 10; i++) await devops.post('/v1/decide', deleteProduction);
    t.clock.advance(1);
    type Agent = { id: string; role: string; environment: string; lastSeen: string | null; mix: Counts; total: number; blockedRate: number | null; trend: { total: number; blocked: number }[]; flags: { code: string }[] };
    const { body } = await viewer.get<{ agents: Agent[] }>('/v1/fleet');
    const byId = Object.fromEntries(body.agents.map((a) => [a.id, a]));
    expect(Object.keys(byId).sort()).toEqual(['dev-bot', 'devops-bot-1', 'finance-bot-1', 'support-bot-1', 'workflow-bot-1']);
    expect(byId['devops-bot-1']).toMatchObject({ role: 'devops', environment: 'production', mix: { allow: 0, require_approval: 0, block: 11 }, total: 11, blockedRate: 1 });
    expect(byId['devops-bot-1']?.flags.map((f) => f.code)).toEqual(['blocked_rate_spike']);
    expect(byId['devops-bot-1']?.trend).toHaveLength(24);
    expect(byId['devops-bot-1']?.trend.at(-1)).toEqual(expect.objectContaining({ total: 11, blocked: 11 }));
    expect(byId['support-bot-1']).toMatchObject({ mix: { allow: 1, require_approval: 2, block: 2 }, lastSeen: iso(h0 + 3.5 * MINUTE), flags: [] });
    expect(byId['finance-bot-1']).toMatchObject({ lastSeen: null, total: 0, blockedRate: null, flags: [] });
    expect(byId['finance-bot-1']?.trend.every((p) => p.total === 0)).toBe(true);
  });

  it('fleet detail: one agent with its series and top tools; unknown agents are 404', async () => {
    const { body } = await viewer.get<{ id: string; topTools: { value: string; count: number }[]; topBlockedTools: unknown[]; series: Counts[] }>(
      `/v1/fleet/support-bot-1?from=${iso(h0)}&to=${iso(h0 + 10 * MINUTE)}&bucket=1m`,
    );
    expect(body.topTools).toEqual([
      { value: 'issue_refund', count: 4 },
      { value: 'export_customers', count: 1 },
    ]);
    expect(body.topBlockedTools).toEqual([
      { value: 'export_customers', count: 1 },
      { value: 'issue_refund', count: 1 },
    ]);
    expect(body.series[0]).toMatchObject({ allow: 1, block: 1 });
    expect((await viewer.get('/v1/fleet/nobody')).status).toBe(404);
  });

  it("approval context: the full decision, its budgets and the agent's history", async () => {
    const { status, body } = await viewer.get<{
      approval: { id: string; status: string };
      decision: { rule: string; limits: unknown[] };
      budgets: { limit: string; used: number; adding: number; max: number; remaining: number }[];
      history: { tool: string; args: { amount: number }; effect: string }[];
    }>(`/v1/approvals/${pendingId}/context`);
    expect(status).toBe(200);
    expect(body.approval).toMatchObject({ id: pendingId, status: 'pending' });
    expect(body.decision.rule).toBe('refund-medium');
    expect(body.budgets).toEqual([expect.objectContaining({ limit: 'refund-budget', used: 0, adding: 80, max: 100, remaining: 20 })]);
    expect(body.history[0]).toMatchObject({ tool: 'issue_refund', args: { amount: 80 }, effect: 'require_approval' });
    expect(body.history.map((h) => h.effect)).toEqual(['require_approval', 'require_approval', 'block', 'block', 'allow']);
    expect((await support.get(`/v1/approvals/${pendingId}/context`)).status).toBe(403);
  });

  it('live decision events carry the arguments and the risk', async () => {
    const stream = await fetch(`${t.url}/v1/events`, { headers: { cookie: viewer.cookie } });
    const received = readEvents(stream, (e) => e.event === 'decision');
    await support.post('/v1/decide', refund('E-1', 12));
    const [event] = (await received).filter((e) => e.event === 'decision');
    expect(event?.data).toMatchObject({ agent: 'support-bot-1', tool: 'issue_refund', args: { account_id: 'E-1', amount: 12, currency: 'USD' }, effect: 'allow', risk: { score: 0, level: 'low' } });
  });
});

describe('approval context with large arguments in the history', () => {
  let t: TestServer;
  afterAll(async () => {
    await t?.dispose();
  });

  it('finds the decision by its id and cuts the history at about 1 MiB, saying so', async () => {
    t = await startTestServer();
    const admin = await t.admin();
    const support = t.agent('support-bot-1');
    // Out-of-schema calls are refused and recorded as sent: 300 KB each, 25 of them, in the same
    // millisecond as the approval's decision (the clock does not move).
    const note = 'x'.repeat(300_000);
    const stuffed = await Promise.all(Array.from({ length: 25 }, () => support.post<{ effect: string }>('/v1/decide', { tool: 'issue_refund', args: { ...refund('A-1', 10).args, note } })));
    expect(stuffed.every((reply) => reply.body.effect === 'block')).toBe(true);
    const opened = await support.post<{ id: string; approval: { id: string } }>('/v1/decide', refund('C-1', 80));
    const response = await admin.get<{ decision: { rule: string } | null; history: { id: string; args: { note?: string } }[]; historyCut: boolean }>(
      `/v1/approvals/${opened.body.approval.id}/context`,
    );
    expect(response.status).toBe(200);
    expect(response.body.decision?.rule).toBe('refund-medium');
    const { history, historyCut } = response.body;
    expect(history[0]?.id).toBe(opened.body.id);
    expect(history.length).toBeGreaterThan(1);
    expect(history.length).toBeLessThan(5);
    expect(historyCut).toBe(true);
    expect(JSON.stringify(response.body).length).toBeLessThan(1.2 * 1024 * 1024);

    // Without large records: 20 entries, nothing cut.
    for (let i = 0; i < 20; i++) await support.post('/v1/decide', refund(`D-${i}`, 5));
    const small = await admin.get<{ history: unknown[]; historyCut: boolean }>(`/v1/approvals/${opened.body.approval.id}/context`);
    expect(small.body.history).toHaveLength(20);
    expect(small.body.historyCut).toBe(false);
  }, 60_000);
});
