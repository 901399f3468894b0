import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller, Person } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';
import { dropSchema, uniqueName } from './support/shared-services.js';
import { serverStores } from './support/stores.js';

/**
 * The overview as the dashboard's main screen (issue 20.2): every figure is a count of records the
 * audit API returns for the filters the dashboard links to (the click-through must land on exactly
 * those records), with or without an agent / role / tool / environment scope; and the anomaly
 * baselines report how much history they have until they can alert.
 */
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const BUCKET = 15 * MINUTE;

type Counts = { allow: number; require_approval: number; block: number };
interface Overview {
  from: string;
  to: string;
  bucketMs: number;
  series: (Counts & { start: string })[];
  totals: Counts;
  topBlockedTools: { value: string | null; count: number }[];
  topBlockedRules: { value: string | null; cause: string; count: number }[];
  environments: (Counts & { environment: string })[];
}
interface Baseline {
  warmupMs: number;
  starting: boolean;
  agents: { agent: string; historyMs: number; learning: boolean }[];
}

const EFFECTS = ['allow', 'require_approval', 'block'] as const;
describe.each(serverStores)('overview figures and their records on $name', ({ name, options }) => {
  let t: TestServer;
  let admin: Person;
  let h0: number;
  const schema = uniqueName('overview');
  const iso = (ms: number) => new Date(ms).toISOString();
  const refund = (account: string, amount: unknown) => ({ tool: 'issue_refund', args: { account_id: account, amount, currency: 'USD' } });

  beforeAll(async () => {
    t = await startTestServer(options(schema));
    admin = await t.admin();
    const support = t.agent('support-bot-1');
    const devops = t.agent('devops-bot-1');
    const finance = t.agent('finance-bot-1');
    await t.clock.advance(HOUR - (t.clock.now() % HOUR) + 30_000);
    h0 = t.clock.now() - 30_000;
    // Calls spread over the first three quarters of the hour, from three agents, every cause.
    const calls: [Caller, object, string][] = [
      [support, refund('A-1', 20), 'allow'],
      [support, refund('A-2', 900), 'block'],
      [support, { tool: 'export_customers', args: {} }, 'block'],
      [finance, { tool: 'get_balance', args: { account_id: 'OPS-1' } }, 'allow'],
      [support, refund('A-3', 75), 'require_approval'],
      [finance, { tool: 'make_payment', args: { amount: 40_000, currency: 'USD', payee: 'Unknown Ltd' } }, 'block'],
      [support, refund('A-4', '75'), 'block'],
      [support, { tool: 'no_such_tool', args: {} }, 'block'],
      [devops, { tool: 'get_metrics', args: { service: 'checkout', environment: 'production' } }, 'allow'],
      [support, refund('A-5', 950), 'block'],
    ];
    for (const [i, [who, body, effect]] of calls.entries()) {
      expect((await who.post<{ effect: string }>('/v1/decide', body)).body.effect).toBe(effect);
      await t.clock.advance(i % 3 === 2 ? BUCKET : MINUTE);
    }
    const pause = await admin.post<{ id: string }>('/v1/pauses', { scope: 'agent', target: 'devops-bot-1', reason: 'overview test' });
    expect(pause.status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await devops.post<{ decidedBy: string }>('/v1/decide', { tool: 'get_metrics', args: { service: 'checkout', environment: 'production' } })).body.decidedBy).toBe('pause');
    expect((await admin.post(`/v1/pauses/${pause.body.id}/resume`)).status).toBe(200);
  });
  afterAll(async () => {
    await t?.dispose();
    if (name === 'PostgreSQL') await dropSchema(schema);
  });

  /** Decision records the audit API lists for these filters (the feed's query). */
  async function records(filter: Record<string, string | undefined>): Promise<number> {
    const query = new URLSearchParams({ type: 'decision', limit: '500' });
    for (const [key, value] of Object.entries(filter)) if (value !== undefined) query.set(key, value);
    const { status, body } = await admin.get<{ records: unknown[]; nextCursor: string | null }>(`/v1/audit?${query.toString()}`);
    expect(status).toBe(200);
    expect(body.nextCursor).toBeNull();
    return body.records.length;
  }

  /** Checks every figure of the overview against the records its link asks for. */
  async function expectFiguresAreRecords(scope: Record<string, string>): Promise<Overview> {
    const range = { from: iso(h0), to: iso(h0 + HOUR) };
    const { status, body } = await admin.get<Overview>(`/v1/stats/overview?${new URLSearchParams({ ...range, bucket: '15m', ...scope }).toString()}`);
    expect(status).toBe(200);
    expect(body.bucketMs).toBe(BUCKET);
    expect(body.series).toHaveLength(4);
    const span = { from: body.from, to: body.to };
    for (const effect of EFFECTS) expect(await records({ ...scope, ...span, effect })).toBe(body.totals[effect]);
    for (const bucket of body.series) {
      const end = iso(Date.parse(bucket.start) + body.bucketMs);
      for (const effect of EFFECTS) expect(await records({ ...scope, effect, from: bucket.start, to: end })).toBe(bucket[effect]);
    }
    for (const row of body.topBlockedTools) expect(await records({ ...scope, ...span, effect: 'block', tool: row.value ?? undefined })).toBe(row.count);
    for (const row of body.topBlockedRules) {
      const link = row.value === null ? { cause: row.cause } : { rule: row.value };
      expect(await records({ ...scope, ...span, effect: 'block', ...link })).toBe(row.count);
    }
    for (const row of body.environments) for (const effect of EFFECTS) expect(await records({ ...scope, ...span, environment: row.environment, effect })).toBe(row[effect]);
    return body;
  }

  it('every figure of the whole fleet is the records its link lists', async () => {
    const body = await expectFiguresAreRecords({});
    expect(body.totals).toEqual({ allow: 3, require_approval: 1, block: 9 });
    // The calls fell into three buckets, the paused ones into the last with calls.
    expect(body.series.map((b) => b.allow + b.require_approval + b.block)).toEqual([3, 3, 3, 4]);
    expect(body.topBlockedRules).toContainEqual({ value: null, cause: 'paused', count: 3 });
    expect(body.topBlockedRules).toContainEqual({ value: 'refund-large', cause: 'rule', count: 2 });
  });

  it.each<{ scope: Record<string, string>; total: number }>([
    { scope: { agent: 'support-bot-1' }, total: 7 },
    { scope: { role: 'finance' }, total: 2 },
    { scope: { tool: 'get_metrics' }, total: 4 },
    { scope: { environment: 'production' }, total: 13 },
    { scope: { agent: 'devops-bot-1', tool: 'get_metrics' }, total: 4 },
    { scope: { role: 'devops', environment: 'staging' }, total: 0 },
  ])('scoped to $scope, every figure is the records its link lists', async ({ scope, total }) => {
    const body = await expectFiguresAreRecords(scope);
    expect(body.totals.allow + body.totals.require_approval + body.totals.block).toBe(total);
  });

  it('refuses a scope that is empty or too long, as a value with a code', async () => {
    for (const query of ['agent=', `role=${'r'.repeat(257)}`, 'tool=', 'environment=']) {
      const { status, body } = await admin.get<{ error: { code: string } }>(`/v1/stats/overview?${query}`);
      expect(status).toBe(400);
      expect(body.error.code).toBe('invalid_request');
    }
  });

  it('the anomaly baselines say how much history they have, bucket by bucket, until they can alert', async () => {
    const read = async (agent: string) => (await admin.get<{ alerts: unknown[]; baseline: Baseline }>(`/v1/anomalies?agent=${agent}`)).body;
    const first = await read('support-bot-1');
    expect(first.alerts).toEqual([]);
    expect(first.baseline.starting).toBe(false);
    expect(first.baseline.warmupMs).toBe(HOUR);
    const [entry] = first.baseline.agents;
    expect(entry).toMatchObject({ agent: 'support-bot-1', learning: true });
    // An agent that never called has no history at all.
    expect((await read('workflow-bot-1')).baseline.agents).toEqual([{ agent: 'workflow-bot-1', historyMs: 0, learning: true }]);
    let history = entry?.historyMs ?? 0;
    expect(history).toBeGreaterThan(0);
    expect(history).toBeLessThan(HOUR);
    // Each closed bucket (5 minutes) adds to the history until the hour of warm-up is reached.
    while (history < HOUR) {
      await t.clock.advance(5 * MINUTE);
      const now = (await read('support-bot-1')).baseline.agents[0];
      expect(now?.historyMs).toBe(history + 5 * MINUTE);
      history = now?.historyMs ?? 0;
      expect(now?.learning).toBe(history < HOUR);
    }
  });
});
