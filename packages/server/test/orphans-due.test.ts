import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartOptions } from '../src/index.js';
import type { Caller, DecisionBody } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';
import { dropSchema, POSTGRES_URL, uniqueName } from './support/shared-services.js';

interface OrphansBody {
  allowedUnreported: { decisionId: string }[];
  redeemedUnreported: { approvalId: string }[];
  startedUnfinished: { decisionId: string }[];
  checkedAt: string;
  nextDueAt: string | null;
}

const GRACE_S = 300;
const GRACE_MS = GRACE_S * 1000;
const refund = (account_id: string, amount: number) => ({ tool: 'issue_refund', args: { account_id, amount, currency: 'USD' } });
const metrics = { tool: 'get_metrics', args: { service: 'api', environment: 'production' } };
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * When the unaccounted-calls view next changes by time alone (GET /v1/outcomes/orphans
 * `nextDueAt`): the earliest call still inside the grace period with no finished outcome, plus the
 * grace period. A console page looks again then instead of waiting for a click. Both stores, whose
 * queries differ (SQLite's JSON path against PostgreSQL's), must give the same instant.
 */
const stores: { name: string; options: () => StartOptions; cleanup?: (options: StartOptions) => Promise<void> }[] = [
  { name: 'SQLite', options: () => ({}) },
  {
    name: 'PostgreSQL',
    options: () => ({ databaseUrl: POSTGRES_URL, databaseSchema: uniqueName('orphans_due') }),
    cleanup: (options) => dropSchema(options.databaseSchema as string),
  },
];

describe.each(stores)('orphans: when the view next changes ($name)', ({ options, cleanup }) => {
  let t: TestServer;
  let started: StartOptions;
  let support: Caller;
  let devops: Caller;
  beforeAll(async () => {
    started = options();
    t = await startTestServer(started);
    support = t.agent('support-bot-1');
    devops = t.agent('devops-bot-1');
  });
  afterAll(async () => {
    await t?.dispose();
    if (started) await cleanup?.(started);
  });

  const decide = async (call: object, as: Caller = support) => (await as.post<DecisionBody>('/v1/decide', call)).body;
  const report = async (decision: DecisionBody, status: 'started' | 'succeeded', as: Caller = support) => {
    const { body } = await as.post<{ recorded: number }>('/v1/outcomes', { outcomes: [{ decisionId: decision.id, decidedAt: decision.at, status, at: t.clock.now() }] });
    expect(body.recorded).toBe(1);
  };
  const orphans = async (query = `agent=support-bot-1&grace=${GRACE_S}`) => (await (await t.admin()).get<OrphansBody>(`/v1/outcomes/orphans?${query}`)).body;

  it('is null when every call is accounted for, and checkedAt is the server time', async () => {
    // The agent reports, so it is judged from here on.
    const first = await decide(refund('DUE-0', 20));
    await t.clock.advance(1000);
    await report(first, 'succeeded');
    const view = await orphans();
    expect(view.checkedAt).toBe(iso(t.clock.now()));
    expect(view.nextDueAt).toBeNull();
  });

  it('an allowed call never reported is due one grace period after its decision, and listed from then on', async () => {
    const call = await decide(refund('DUE-1', 20));
    expect(call.effect).toBe('allow');
    // Listed once strictly older than the grace period.
    const due = Date.parse(call.at) + GRACE_MS + 1;
    await t.clock.advance(GRACE_MS);
    const before = await orphans();
    expect(before.allowedUnreported.map((o) => o.decisionId)).not.toContain(call.id);
    expect(before.nextDueAt).toBe(iso(due));
    await t.clock.advance(1);
    const after = await orphans();
    expect(after.allowedUnreported.map((o) => o.decisionId)).toContain(call.id);
    // Listed now, so nothing else waits.
    expect(after.nextDueAt).toBeNull();
  });

  it('the earliest of several waiting calls, of each kind, counts; a call reported finished no longer waits', async () => {
    const allowed = await decide(refund('DUE-2', 20));
    await t.clock.advance(10_000);
    // Started, never finished: due from its start, not its decision.
    const running = await decide(refund('DUE-3', 20));
    await t.clock.advance(5_000);
    await report(running, 'started');
    const runningStart = t.clock.now();
    await t.clock.advance(10_000);
    // An approval redeemed and not reported: due from its redemption.
    const big = await decide(refund('DUE-4', 75));
    expect(big.effect).toBe('require_approval');
    const approvalId = big.approval?.id as string;
    await (await t.admin()).post(`/v1/approvals/${approvalId}/approve`, { reason: 'ok' });
    await t.clock.advance(10_000);
    expect((await support.post(`/v1/approvals/${approvalId}/redeem`, refund('DUE-4', 75))).status).toBe(200);
    const redeemedAt = t.clock.now();

    expect((await orphans()).nextDueAt).toBe(iso(Date.parse(allowed.at) + GRACE_MS + 1));
    await report(allowed, 'succeeded');
    expect((await orphans()).nextDueAt).toBe(iso(runningStart + GRACE_MS + 1));
    await report(running, 'succeeded');
    expect((await orphans()).nextDueAt).toBe(iso(redeemedAt + GRACE_MS + 1));
    await report(big, 'succeeded');
    expect((await orphans()).nextDueAt).toBeNull();
  });

  it('is per agent with ?agent=, and the earliest over every reporting agent without it', async () => {
    // devops-bot-1 reports once, then leaves one read unreported; support-bot-1 leaves one later.
    const reported = await decide(metrics, devops);
    expect(reported.effect).toBe('allow');
    await report(reported, 'succeeded', devops);
    await t.clock.advance(1000);
    const devopsCall = await decide(metrics, devops);
    await t.clock.advance(1000);
    const supportCall = await decide(refund('DUE-5', 20));
    expect((await orphans(`agent=devops-bot-1&grace=${GRACE_S}`)).nextDueAt).toBe(iso(Date.parse(devopsCall.at) + GRACE_MS + 1));
    expect((await orphans(`agent=support-bot-1&grace=${GRACE_S}`)).nextDueAt).toBe(iso(Date.parse(supportCall.at) + GRACE_MS + 1));
    expect((await orphans(`grace=${GRACE_S}`)).nextDueAt).toBe(iso(Date.parse(devopsCall.at) + GRACE_MS + 1));
    // With a longer grace period, the same calls are due later.
    expect((await orphans(`agent=devops-bot-1&grace=3600`)).nextDueAt).toBe(iso(Date.parse(devopsCall.at) + 3_600_000 + 1));
    // 100 views at once agree (a read: nothing to race, but nothing shared between them either).
    const admin = await t.admin();
    const views = await Promise.all(Array.from({ length: 100 }, () => admin.get<OrphansBody>(`/v1/outcomes/orphans?grace=${GRACE_S}`)));
    expect(new Set(views.map((v) => v.body.nextDueAt))).toEqual(new Set([iso(Date.parse(devopsCall.at) + GRACE_MS + 1)]));
    await report(devopsCall, 'succeeded', devops);
    await report(supportCall, 'succeeded');
  });

  it('with no grace period, a call is listed at once and never waits', async () => {
    const call = await decide(refund('DUE-6', 20));
    await t.clock.advance(1);
    const view = await orphans('agent=support-bot-1&grace=0');
    expect(view.allowedUnreported.map((o) => o.decisionId)).toContain(call.id);
    expect(view.nextDueAt).toBeNull();
  });
});
