import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from './support/cluster.js';

interface Decision {
  effect: string;
  rule: string | null;
  policy: { version: number };
  approval?: { id: string };
  error?: { code: string };
}

/** Three server instances over one PostgreSQL and one Redis: one fleet, exact shared limits. */
describe('three instances over PostgreSQL + Redis', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster(3);
  }, 120_000);
  afterAll(async () => {
    await cluster?.dispose();
  });

  it('allows exactly 50 of 1,000 concurrent payments per rolling hour, spread over the instances', async () => {
    const calls = Array.from({ length: 1000 }, (_, i) =>
      cluster.agent(i % 3, 'finance-bot-1').post<Decision>('/v1/decide', { tool: 'make_payment', args: { amount: 10, currency: 'USD', payee: `P-${i}` } }),
    );
    const replies = await Promise.all(calls);
    expect(replies.every((r) => r.status === 200)).toBe(true);
    const effects = replies.map((r) => `${r.body.effect}/${r.body.rule}`);
    expect(effects.filter((e) => e === 'allow/payment-small').length).toBe(50);
    expect(effects.filter((e) => e === 'block/transaction-rate').length).toBe(950);
  }, 120_000);

  it('spends a refund budget exactly across instances: $100 of $20 refunds is five', async () => {
    const calls = Array.from({ length: 30 }, (_, i) =>
      cluster.agent(i % 3, 'support-bot-1').post<Decision>('/v1/decide', { tool: 'issue_refund', args: { account_id: 'BUDGET-1', amount: 20, currency: 'USD' } }),
    );
    const replies = await Promise.all(calls);
    expect(replies.filter((r) => r.body.effect === 'allow')).toHaveLength(5);
    expect(replies.filter((r) => r.body.effect === 'require_approval' && r.body.rule === 'refund-budget')).toHaveLength(25);
  });

  it('claims a stored allow once across instances: of 99 concurrent claims spread over three instances, one may run', async () => {
    const call = { tool: 'issue_refund', args: { account_id: 'CLAIM-X', amount: 20, currency: 'USD' } };
    const key = { 'idempotency-key': 'openai-agents:call_0' };
    const stored = await cluster.agent(0, 'support-bot-1').post<Decision & { id: string }>('/v1/decide', call, key);
    expect(stored.body.effect).toBe('allow');
    const replies = await Promise.all(
      Array.from({ length: 99 }, (_, i) => cluster.agent(i % 3, 'support-bot-1').post<Decision & { id: string }>('/v1/decide', call, { ...key, 'airlock-claim': `clm_${i}` })),
    );
    expect(replies.filter((r) => r.status === 200).map((r) => r.body.id)).toEqual([stored.body.id]);
    expect(replies.filter((r) => r.status === 409 && r.body.error?.code === 'already_ran')).toHaveLength(98);
  });

  it('opens an approval on A, approves it on B (waking a waiter on C), and redeems it on C once', async () => {
    const args = { account_id: 'APR-X', amount: 75, currency: 'USD' };
    const opened = await cluster.agent(0, 'support-bot-1').post<Decision>('/v1/decide', { tool: 'issue_refund', args });
    expect(opened.body).toMatchObject({ effect: 'require_approval', rule: 'refund-medium' });
    const id = opened.body.approval?.id as string;

    const waiting = cluster.agent(2, 'support-bot-1').get<{ status: string }>(`/v1/approvals/${id}/wait?timeout=20`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    const admin = await cluster.admin(1);
    expect((await admin.post(`/v1/approvals/${id}/approve`, { reason: 'checked' })).status).toBe(200);
    const woke = await waiting;
    expect(woke.body.status).toBe('approved');
    expect(Date.now() - started).toBeLessThan(5_000);

    const redeem = () => cluster.agent(2, 'support-bot-1').post<{ status: string; error?: { code: string } }>(`/v1/approvals/${id}/redeem`, { tool: 'issue_refund', args });
    const [first, second] = await Promise.all([redeem(), cluster.agent(0, 'support-bot-1').post<{ error?: { code: string } }>(`/v1/approvals/${id}/redeem`, { tool: 'issue_refund', args })]);
    const codes = [first, second].map((r) => r.status).sort();
    expect(codes).toEqual([200, 409]);
  });

  it('reaches every instance with a policy activated on one of them', async () => {
    const admin = await cluster.admin(0);
    const { body } = await admin.get<{ sources: { file: string; text: string }[] }>('/v1/policies/1');
    const files = body.sources.map((s) => (s.file.includes('customer-support') ? { ...s, text: s.text.replace('args.amount <= 50', 'args.amount <= 10') } : s));
    const uploaded = await admin.post<{ version: number }>('/v1/policies', { name: 'examples', files });
    expect(uploaded.status).toBe(201);
    expect((await admin.post(`/v1/policies/${uploaded.body.version}/activate`)).status).toBe(200);
    for (const instance of [1, 2]) {
      let decision: Decision | undefined;
      const deadline = Date.now() + 2_000;
      do {
        decision = (await cluster.agent(instance, 'support-bot-1').post<Decision>('/v1/decide', { tool: 'get_account', args: { account_id: 'V-1' } })).body;
      } while (decision.policy.version !== uploaded.body.version && Date.now() < deadline);
      expect(decision.policy.version).toBe(uploaded.body.version);
    }
  });

  it('keeps one audit chain for the whole fleet, verified from any instance', async () => {
    for (const i of [0, 2]) {
      const admin = await cluster.admin(i);
      const { body } = await admin.get<{ ok: boolean; records: number }>('/v1/audit/verify');
      expect(body.ok).toBe(true);
      expect(body.records).toBeGreaterThan(1030);
    }
  });
});
