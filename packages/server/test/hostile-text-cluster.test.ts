import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from './support/cluster.js';
import { inSchema } from './support/shared-services.js';

interface Answer {
  effect?: string;
  error?: { code: string; param?: string };
}

/**
 * On PostgreSQL an agent's NUL (text holds none) or unpaired surrogate in a tool name or argument
 * failed the whole group commit it shared with other agents' decisions (503 store_unavailable for
 * them), or merged into another's count row. Such text is refused at the door (400 invalid_text)
 * and never reaches a batch: 100 hostile calls at once beside 100 ordinary ones, on two instances.
 */
describe('hostile text beside other agents on PostgreSQL', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster(2);
  }, 120_000);
  afterAll(async () => {
    await cluster?.dispose();
  });

  it('refuses every hostile call and answers every bystander; the trail holds exactly the bystanders', async () => {
    const hostile = [
      { tool: 'x\u0000' },
      { tool: 'x\ud800' },
      { tool: 'x\udbff' },
      { tool: 'get_account', args: { account_id: 'A\u0000' } },
      { tool: 'get_account', args: { ['k\udc00']: 1 } },
    ];
    const before = await inSchema(cluster.schema, async (client) => Number((await client.query("SELECT count(*) AS n FROM audit WHERE type = 'decision'")).rows[0].n));
    const calls = Array.from({ length: 200 }, (_, i) =>
      i % 2 === 0
        ? cluster.agent(i % 4 === 0 ? 0 : 1, 'support-bot-1').post<Answer>('/v1/decide', hostile[(i / 2) % hostile.length])
        : cluster.agent(i % 4 === 1 ? 0 : 1, 'devops-bot-1').post<Answer>('/v1/decide', { tool: 'get_metrics', args: { service: 'checkout', environment: 'production' } }),
    );
    const replies = await Promise.all(calls);
    const refused = replies.filter((_, i) => i % 2 === 0);
    const answered = replies.filter((_, i) => i % 2 === 1);
    expect(refused.map((reply) => `${reply.status} ${reply.body.error?.code}`)).toEqual(Array(100).fill('400 invalid_text'));
    expect(answered.map((reply) => `${reply.status} ${reply.body.effect}`)).toEqual(Array(100).fill('200 allow'));
    const after = await inSchema(cluster.schema, async (client) => Number((await client.query("SELECT count(*) AS n FROM audit WHERE type = 'decision'")).rows[0].n));
    expect(after - before).toBe(100);
    // The counts agree with the records.
    const counted = await inSchema(cluster.schema, async (client) => Number((await client.query('SELECT coalesce(sum(count), 0) AS n FROM decision_counts')).rows[0].n));
    expect(counted).toBe(after);
  }, 60_000);

  it('refuses %00 in a URL before anything reads it: 400 invalid_text, on public routes too', async () => {
    const admin = await cluster.admin(0);
    for (const path of ['/v1/audit?tool=x%00', '/v1/audit?agent=%00', '/v1/approvals?agent=a%00b', '/v1/fleet/x%00', '/v1/stats/overview?tool=%00']) {
      const reply = await admin.get<Answer>(path);
      expect([path, reply.status, reply.body.error?.code]).toEqual([path, 400, 'invalid_text']);
    }
    const health = await fetch(`${cluster.instances[0]?.url ?? ''}/healthz?x=%00`);
    expect(health.status).toBe(400);
    expect((await admin.get<Answer>('/v1/audit?tool=x')).status).toBe(200);
  });
});

describe('reports of calls that already ran, holding such text, on PostgreSQL', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster(1);
  }, 120_000);
  afterAll(async () => {
    await cluster?.dispose();
  });

  it('are recorded with U+FFFD in place of each NUL and unpaired surrogate, not refused (a refused batch was retried for good)', async () => {
    const agent = cluster.agent(0, 'support-bot-1');
    const allowed = await agent.post<{ id: string; at: string; effect: string }>('/v1/decide', { tool: 'get_account', args: { account_id: 'RAN-1' } });
    expect(allowed.body.effect).toBe('allow');
    const outcome = await agent.post<{ recorded: number }>('/v1/outcomes', {
      outcomes: [{ decisionId: allowed.body.id, decidedAt: allowed.body.at, status: 'failed', at: Date.now(), durationMs: 1, error: { class: 'Error\u0000', message: 'cut through an emoji \ud83d' } }],
    });
    expect(outcome.status, JSON.stringify(outcome.body)).toBe(200);
    const stored = await inSchema(cluster.schema, async (client) => (await client.query('SELECT error_class, error_message FROM outcomes WHERE decision_id = $1', [allowed.body.id])).rows[0]);
    expect(stored).toEqual({ error_class: 'Error\ufffd', error_message: 'cut through an emoji \ufffd' });
    const edge = await agent.post<{ recorded: number }>('/v1/edge/decisions', { decisions: [{ id: 'edg_text', at: Date.now(), version: 1, rule: 'read-account', call: { tool: 'get_account', args: { ['k\u0000']: 'v\udfff', account_id: 'E-1' } } }] });
    expect(edge.status, JSON.stringify(edge.body)).toBe(200);
    expect(edge.body.recorded).toBe(1);
  }, 60_000);
});
