import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from './support/cluster.js';
import type { DecisionBody } from './support/http.js';

interface OutcomesBody {
  recorded: number;
  outcomes: { decisionId: string; recorded: boolean; error?: { code: string } }[];
}
interface AuditBody {
  records: { seq: number; type: string; data: Record<string, unknown> }[];
}

const refund = (account_id: string, amount: number) => ({ tool: 'issue_refund', args: { account_id, amount, currency: 'USD' } });

/**
 * One outcome per decision across instances (docs/outcomes.md): two servers on one PostgreSQL
 * schema receive 100 concurrent reports of the same decision, half each. The outcome row is
 * claimed in the transaction that appends its record, so exactly one `call.executed` is written
 * and the chain verifies. (The outcome service takes no Redis lock: the database decides.)
 */
describe('execution outcomes on two instances (PostgreSQL)', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster(2);
  }, 120_000);
  afterAll(async () => {
    await cluster?.dispose();
  });

  const support = (instance: number) => cluster.agent(instance, 'support-bot-1');
  const executedOf = async (decisionId: string, type = 'call.executed') => {
    const admin = await cluster.admin(1);
    const { body } = await admin.get<AuditBody>(`/v1/audit?type=${type}&agent=support-bot-1&limit=500`);
    return body.records.filter((r) => r.data.decision === decisionId);
  };

  it.each([1, 2, 3])('of 100 concurrent reports of one decision split across the instances, one is recorded and audited (round %i)', async (round) => {
    const decision = (await support(0).post<DecisionBody>('/v1/decide', refund(`CL-OUT-${round}`, 20))).body;
    expect(decision.effect).toBe('allow');
    const replies = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        support(i % 2).post<OutcomesBody>('/v1/outcomes', {
          outcomes: [{ decisionId: decision.id, decidedAt: decision.at, status: i % 3 === 0 ? 'failed' : 'succeeded', at: Date.parse(decision.at) + 1, durationMs: 5 }],
        }),
      ),
    );
    expect(replies.every((r) => r.status === 200)).toBe(true);
    expect(replies.reduce((sum, r) => sum + r.body.recorded, 0)).toBe(1);
    const refused = replies.flatMap((r) => r.body.outcomes.filter((o) => !o.recorded).map((o) => o.error?.code));
    expect(refused).toHaveLength(99);
    expect(new Set(refused)).toEqual(new Set(['outcome_already_reported']));

    const records = [...(await executedOf(decision.id)), ...(await executedOf(decision.id, 'call.failed'))];
    expect(records).toHaveLength(1);
    const admin = await cluster.admin(0);
    const outcome = (await admin.get<{ outcome: { status: string; duplicates: number } }>(`/v1/outcomes/${decision.id}`)).body;
    expect(outcome).toMatchObject({ duplicates: 99 });
    expect((await admin.get<{ ok: boolean }>('/v1/audit/verify')).body.ok).toBe(true);
  });

  it('a started call finished by 100 concurrent final reports on both instances is finished once', async () => {
    const decision = (await support(1).post<DecisionBody>('/v1/decide', refund('CL-OUT-START', 20))).body;
    const started = await support(0).post<OutcomesBody>('/v1/outcomes', { outcomes: [{ decisionId: decision.id, decidedAt: decision.at, status: 'started', at: Date.parse(decision.at) }] });
    expect(started.body.recorded).toBe(1);
    const replies = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        support(i % 2).post<OutcomesBody>('/v1/outcomes', { outcomes: [{ decisionId: decision.id, decidedAt: decision.at, status: 'succeeded', at: Date.parse(decision.at) + 2, durationMs: 2 }] }),
      ),
    );
    expect(replies.reduce((sum, r) => sum + r.body.recorded, 0)).toBe(1);
    expect(await executedOf(decision.id)).toHaveLength(1);
    expect(await executedOf(decision.id, 'call.started')).toHaveLength(1);
    expect((await (await cluster.admin(1)).get<{ ok: boolean }>('/v1/audit/verify')).body.ok).toBe(true);
  });
});
