import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restoreSpanMs } from '../src/services/counters.js';
import { startCluster } from './support/cluster.js';
import { ManualClock } from './support/manual-clock.js';
import { startTestServer, type TestServer } from './support/server.js';
import { deleteRedisPrefix } from './support/shared-services.js';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

/** One stored version's sources column: one policy with these limits and environments. */
function version(limits: string, environments = ''): { sources: string } {
  const text = `policy: p
appliesTo: { roles: [r] }
tools:
  t: { args: { n: { type: number } } }
rules:
  - { id: ok, tool: t, effect: allow }
limits:
${limits}
${environments}`;
  return { sources: JSON.stringify([{ file: 'p.yaml', text }]) };
}

describe('how far back the counters are rebuilt at start', () => {
  it.each([
    { name: 'no version: the floor', versions: [], span: WEEK },
    { name: 'windows under the floor: the floor', versions: [version('  - { id: l, tools: [t], key: [args.n], max: 5, window: 24h, effect: block }')], span: WEEK },
    { name: 'a 30-day budget', versions: [version('  - { id: l, tools: [t], key: [args.n], sum: args.n, max: 5, window: 30d, effect: block }')], span: 30 * DAY },
    {
      name: 'the longest over versions and limits',
      versions: [version('  - { id: a, tools: [t], key: [args.n], max: 5, window: 10d, effect: block }\n  - { id: b, tools: [t], key: [args.n], max: 5, window: 1h, effect: block }'), version('  - { id: c, tools: [t], key: [args.n], max: 5, window: 40d, effect: block }')],
      span: 40 * DAY,
    },
    {
      name: "an environment's own limit",
      versions: [version('  []', 'environments:\n  staging:\n    limits:\n      - { id: s, tools: [t], key: [args.n], max: 5, window: 90d, effect: block }')],
      span: 90 * DAY,
    },
    {
      name: 'a version that no longer parses adds nothing',
      versions: [{ sources: '[{"file":"p.yaml","text":"policy: ["}]' }, { sources: 'not json' }, version('  - { id: l, tools: [t], key: [args.n], max: 5, window: 8d, effect: block }')],
      span: 8 * DAY,
    },
  ])('$name', ({ versions, span }) => {
    expect(restoreSpanMs(versions, WEEK)).toBe(span);
  });
});

/** Activates a copy of the example bundle whose refund budget runs over 30 days instead of 24 hours. */
async function activateThirtyDayBudget(admin: { get<T>(path: string): Promise<{ body: T }>; post<T>(path: string, body?: unknown): Promise<{ status: number; body: T }> }): Promise<void> {
  const active = await admin.get<{ name: string; sources: { file: string; text: string }[] }>('/v1/policies/1');
  const files = active.body.sources.map((s) => (s.file === 'customer-support.yaml' ? { ...s, text: s.text.replace('window: 24h', 'window: 30d') } : s));
  expect(files).not.toEqual(active.body.sources);
  const uploaded = await admin.post<{ version: number }>('/v1/policies', { name: active.body.name, files });
  expect(uploaded.status).toBe(201);
  expect((await admin.post(`/v1/policies/${uploaded.body.version}/activate`)).status).toBe(200);
}

const budget = { tool: 'issue_refund', args: { account_id: 'LONG-1', amount: 45, currency: 'USD' } };

describe('a limit window longer than a week, across a restart', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('still counts what was spent 10 days ago in a 30-day budget, and lets it go after 30 days', async () => {
    await activateThirtyDayBudget(await t.admin());
    // $90 of the $100 30-day budget, ten days before the restart.
    const support = t.agent('support-bot-1');
    expect((await support.post('/v1/decide', budget)).body).toMatchObject({ effect: 'allow' });
    expect((await support.post('/v1/decide', budget)).body).toMatchObject({ effect: 'allow' });
    await t.clock.advance(10 * DAY);
    expect((await support.post('/v1/decide', budget)).body).toMatchObject({ effect: 'require_approval', rule: 'refund-budget' });

    await t.restart();
    const after = t.agent('support-bot-1');
    expect((await after.post('/v1/decide', budget)).body).toMatchObject({ effect: 'require_approval', rule: 'refund-budget' });
    // Thirty days after the two charges they have left the window: the budget is whole again.
    await t.clock.advance(20 * DAY + HOUR);
    await t.restart();
    expect((await t.agent('support-bot-1').post('/v1/decide', budget)).body).toMatchObject({ effect: 'allow' });
  });
});

describe('a limit window longer than a week, on PostgreSQL and Redis', () => {
  it('rebuilds what was spent 10 days ago into a 30-day budget after Redis loses its counters', async () => {
    const clock = new ManualClock();
    const cluster = await startCluster(1, { clock });
    try {
      await activateThirtyDayBudget(await cluster.admin(0));
      const support = cluster.agent(0, 'support-bot-1');
      expect((await support.post('/v1/decide', budget)).body).toMatchObject({ effect: 'allow' });
      expect((await support.post('/v1/decide', budget)).body).toMatchObject({ effect: 'allow' });
      await clock.advance(10 * DAY);

      await deleteRedisPrefix(cluster.prefix);
      // The first calls after the loss block (store_unavailable) while the counters are rebuilt.
      const deadline = Date.now() + 15_000;
      let reply: { effect: string; rule?: string | null; error?: { code: string } };
      for (;;) {
        reply = (await support.post<typeof reply>('/v1/decide', budget)).body;
        if (reply.error?.code !== 'store_unavailable' || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(reply).toMatchObject({ effect: 'require_approval', rule: 'refund-budget' });
    } finally {
      await cluster.dispose();
    }
  }, 60_000);
});

describe('a budget window lengthened while an account already holds a charge', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('counts the charges made under the 30-day window for 30 days, not for twice the old 24 hours', async () => {
    const support = t.agent('support-bot-1');
    const refund = (amount: number) => ({ tool: 'issue_refund', args: { account_id: 'WIDEN-1', amount, currency: 'USD' } });
    // Under the 24-hour version: $1, so the account's counter exists before the window changes.
    expect((await support.post('/v1/decide', refund(1))).body).toMatchObject({ effect: 'allow' });
    await activateThirtyDayBudget(await t.admin());
    await t.clock.advance(HOUR);
    expect((await support.post('/v1/decide', refund(45))).body).toMatchObject({ effect: 'allow' });
    expect((await support.post('/v1/decide', refund(45))).body).toMatchObject({ effect: 'allow' });
    // Three days on, well inside 30 days: $4 fits ($95 with the $1), then $45 more does not.
    await t.clock.advance(3 * DAY);
    expect((await support.post('/v1/decide', refund(4))).body).toMatchObject({ effect: 'allow' });
    expect((await support.post('/v1/decide', refund(45))).body).toMatchObject({ effect: 'require_approval', rule: 'refund-budget' });
  });
});
