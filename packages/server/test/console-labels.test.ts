import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusalCause, type RefusalCause } from '../src/services/refusal-cause.js';
import { topCauses } from '../src/services/insights.js';
import type { Person, Caller } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';
import { dropSchema, uniqueName } from './support/shared-services.js';
import { serverStores } from './support/stores.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('refusal causes', () => {
  // decidedBy × error code → cause (docs/errors.md)
  const table: [string, string | undefined, RefusalCause][] = [
    ['rule', undefined, 'rule'],
    ['limit', undefined, 'limit'],
    ['risk', undefined, 'risk'],
    ['default', undefined, 'default'],
    ['pause', 'paused', 'paused'],
    ['error', 'invalid_arguments', 'invalid_arguments'],
    ['error', 'invalid_request', 'invalid_arguments'],
    ['error', 'request_too_large', 'invalid_arguments'],
    ['error', 'unknown_tool', 'unknown_tool'],
    ['error', 'no_policy', 'no_policy'],
    ['error', 'condition_error', 'evaluation_error'],
    ['error', 'store_unavailable', 'evaluation_error'],
    ['error', 'engine_error', 'evaluation_error'],
    ['error', undefined, 'evaluation_error'],
    ['something new', 'a new code', 'evaluation_error'],
  ];
  it.each(table)('decided by %s with code %s: %s', (decidedBy, code, cause) => {
    expect(refusalCause(decidedBy, code)).toBe(cause);
  });

  it('the top list names rules and limits by id and every other cause once', () => {
    const top = topCauses(
      [
        { rule: null, decidedBy: 'pause', code: 'paused', count: 4 },
        { rule: null, decidedBy: 'error', code: 'invalid_arguments', count: 2 },
        { rule: null, decidedBy: 'error', code: 'request_too_large', count: 1 },
        { rule: null, decidedBy: 'error', code: 'unknown_tool', count: 1 },
        { rule: null, decidedBy: 'default', code: null, count: 1 },
        { rule: 'refund-large', decidedBy: 'rule', code: null, count: 5 },
        { rule: 'refund-budget', decidedBy: 'limit', code: null, count: 1 },
      ],
      8,
    );
    expect(top).toEqual([
      { value: 'refund-large', cause: 'rule', count: 5 },
      { value: null, cause: 'paused', count: 4 },
      { value: null, cause: 'invalid_arguments', count: 3 },
      { value: null, cause: 'default', count: 1 },
      { value: 'refund-budget', cause: 'limit', count: 1 },
      { value: null, cause: 'unknown_tool', count: 1 },
    ]);
  });
});

interface AuditRecord {
  seq: number;
  type: string;
  tool: string | null;
  data: { id: string; decision: { decidedBy: string; risk: { score: number; level: string }; error?: { code: string } }; request: { args: Record<string, unknown> } };
  cause?: string;
  approval?: { id: string; status: string };
}

describe.each(serverStores)('truthful labels on $name', ({ name, options }) => {
  let t: TestServer;
  let admin: Person;
  let support: Caller;
  let h0: number;
  let deniedId: string;
  let waitingId: string;
  const schema = uniqueName('console');
  const iso = (ms: number) => new Date(ms).toISOString();
  const refund = (amount: unknown) => ({ tool: 'issue_refund', args: { account_id: 'A-1', amount, currency: 'USD' } });

  beforeAll(async () => {
    t = await startTestServer(options(schema));
    admin = await t.admin();
    support = t.agent('support-bot-1');
    t.clock.advance(HOUR - (t.clock.now() % HOUR));
    h0 = t.clock.now();
    expect((await support.post('/v1/decide', refund(900))).body).toMatchObject({ effect: 'block', rule: 'refund-large' });
    expect((await support.post('/v1/decide', { tool: 'export_customers', args: {} })).body).toMatchObject({ effect: 'block', rule: 'export-customers' });
    expect((await support.post('/v1/decide', refund('75'))).body).toMatchObject({ effect: 'block', error: { code: 'invalid_arguments' } });
    expect((await support.post('/v1/decide', { tool: 'no_such_tool', args: {} })).body).toMatchObject({ effect: 'block', error: { code: 'unknown_tool' } });
    const asked = await support.post<{ approval: { id: string } }>('/v1/decide', refund(75));
    deniedId = asked.body.approval.id;
    t.clock.advance(2 * MINUTE);
    expect((await admin.post(`/v1/approvals/${deniedId}/deny`, { reason: 'not this one' })).status).toBe(200);
    const pause = await admin.post<{ id: string }>('/v1/pauses', { scope: 'agent', target: 'support-bot-1', reason: 'incident' });
    expect(pause.status).toBe(201);
    for (let i = 0; i < 2; i++) expect((await support.post('/v1/decide', refund(10))).body).toMatchObject({ effect: 'block', decidedBy: 'pause' });
    expect((await admin.post(`/v1/pauses/${pause.body.id}/resume`)).status).toBe(200);
    t.clock.advance(MINUTE);
    waitingId = (await support.post<{ approval: { id: string } }>('/v1/decide', refund(80))).body.approval.id;
    t.clock.advance(1);
  });
  afterAll(async () => {
    await t?.dispose();
    if (name === 'PostgreSQL') await dropSchema(schema);
  });

  it('a blocked refund reads critical; an approval high; the raw score is kept', async () => {
    const { body } = await admin.get<{ records: AuditRecord[] }>('/v1/audit?type=decision&tool=issue_refund&limit=50');
    const byAmount = (amount: unknown) => body.records.filter((r) => r.data.request.args.amount === amount);
    expect(byAmount(900)[0]?.data.decision.risk).toEqual({ score: 0, level: 'critical' });
    expect(byAmount(75)[0]?.data.decision.risk).toEqual({ score: 40, level: 'high' });
    expect(byAmount('75')[0]?.data.decision.risk.level).toBe('critical');
    for (const paused of byAmount(10)) expect(paused.data.decision.risk.level).toBe('critical');
  });

  it('decision records carry their cause and the outcome of the approval they opened', async () => {
    const { body } = await admin.get<{ records: AuditRecord[] }>('/v1/audit?type=decision&limit=50');
    const denied = body.records.find((r) => r.approval?.id === deniedId);
    expect(denied).toMatchObject({ cause: 'rule', approval: { id: deniedId, status: 'denied' } });
    expect(body.records.find((r) => r.approval?.id === waitingId)).toMatchObject({ approval: { status: 'pending' } });
    expect(body.records.filter((r) => r.cause === 'paused')).toHaveLength(2);
    expect(body.records.find((r) => r.tool === 'no_such_tool')?.cause).toBe('unknown_tool');
    expect(body.records.find((r) => r.data.request.args.amount === '75')?.cause).toBe('invalid_arguments');
    // Records that opened no approval say nothing about one.
    expect(body.records.find((r) => r.data.request.args.amount === 900)?.approval).toBeUndefined();
  });

  it('the audit filters by cause, role and environment', async () => {
    const count = async (query: string) => (await admin.get<{ records: AuditRecord[] }>(`/v1/audit?${query}&limit=100`)).body.records.length;
    expect(await count('cause=paused')).toBe(2);
    expect(await count('cause=unknown_tool')).toBe(1);
    expect(await count('cause=invalid_arguments')).toBe(1);
    expect(await count('cause=evaluation_error')).toBe(0);
    expect(await count('cause=rule&effect=block')).toBe(2);
    expect(await count('type=decision&role=support')).toBe(8);
    expect(await count('type=decision&role=devops')).toBe(0);
    expect(await count('type=decision&environment=production')).toBe(8);
    expect((await admin.get('/v1/audit?cause=whatever')).status).toBe(400);
  });

  it('overview: refusal causes apart, people-only time to decision, the oldest waiting approval, filters', async () => {
    const range = `from=${iso(h0)}&to=${iso(h0 + 10 * MINUTE)}`;
    const { body } = await admin.get<{
      topBlockedRules: { value: string | null; cause: string; count: number }[];
      totals: { allow: number; require_approval: number; block: number };
      approvals: { pending: number; resolved: number; medianMs: number | null; automatic: number; oldestPending: { id: string; deadlineAt: string | null; onTimeout: string | null; escalatesTo: string | null } | null };
    }>(`/v1/stats/overview?${range}`);
    expect(body.topBlockedRules).toEqual([
      { value: null, cause: 'paused', count: 2 },
      { value: 'export-customers', cause: 'rule', count: 1 },
      { value: null, cause: 'invalid_arguments', count: 1 },
      { value: 'refund-large', cause: 'rule', count: 1 },
      { value: null, cause: 'unknown_tool', count: 1 },
    ]);
    expect(body.approvals).toMatchObject({ pending: 1, resolved: 1, medianMs: 2 * MINUTE, automatic: 0 });
    expect(body.approvals.oldestPending).toMatchObject({ id: waitingId, onTimeout: 'escalate', escalatesTo: 'manager' });
    expect(Date.parse(body.approvals.oldestPending?.deadlineAt ?? '')).toBe(h0 + 3 * MINUTE + 10 * MINUTE);

    const tool = await admin.get<{ totals: object }>(`/v1/stats/overview?${range}&tool=export_customers`);
    expect(tool.body.totals).toEqual({ allow: 0, require_approval: 0, block: 1 });
    const role = await admin.get<{ totals: object; approvals: { pending: number } }>(`/v1/stats/overview?${range}&role=devops`);
    expect(role.body.totals).toEqual({ allow: 0, require_approval: 0, block: 0 });
    expect(role.body.approvals.pending).toBe(0);
    const fleet = await admin.get<{ agents: { id: string; total: number }[] }>(`/v1/fleet?${range}&role=support`);
    expect(fleet.body.agents.map((a) => [a.id, a.total])).toEqual([['support-bot-1', 8]]);
  });

  it('anomalies: says the baseline is still learning instead of nothing', async () => {
    const { body } = await admin.get<{ alerts: unknown[]; baseline: { warmupMs: number; agents: { agent: string; historyMs: number; learning: boolean }[] } }>(
      '/v1/anomalies?agent=support-bot-1',
    );
    expect(body.alerts).toEqual([]);
    expect(body.baseline.warmupMs).toBe(HOUR);
    expect(body.baseline.agents).toEqual([{ agent: 'support-bot-1', historyMs: expect.any(Number) as number, learning: true }]);
    expect(body.baseline.agents[0]?.historyMs).toBeLessThan(HOUR);
  });
});
