import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from './support/cluster.js';
import { deleteRedisPrefix } from './support/shared-services.js';
import { TcpRelay } from './support/tcp-relay.js';

interface Decision {
  effect: string;
  rule: string | null;
  error?: { code: string };
}

const payment = (i: number) => ({ tool: 'make_payment', args: { amount: 10, currency: 'USD', payee: `P-${i}` } });

describe('Redis outage and data loss', () => {
  const relay = new TcpRelay(6379);
  let cluster: Cluster;
  beforeAll(async () => {
    await relay.open();
    cluster = await startCluster(2, { redisUrl: `redis://127.0.0.1:${relay.port}` });
  }, 120_000);
  afterAll(async () => {
    await relay.cut();
    await cluster?.dispose();
  });

  it('blocks limited calls with store_unavailable while Redis is unreachable, and recovers by itself', async () => {
    const finance = cluster.agent(0, 'finance-bot-1');
    for (let i = 0; i < 10; i++) expect((await finance.post<Decision>('/v1/decide', payment(i))).body.effect).toBe('allow');

    await relay.cut();
    const started = Date.now();
    const during = await Promise.all([0, 1].map((i) => cluster.agent(i, 'finance-bot-1').post<Decision>('/v1/decide', payment(100 + i))));
    expect(Date.now() - started).toBeLessThan(5_000); // bounded: never hangs on the dead connection
    for (const reply of during) expect(reply.body).toMatchObject({ effect: 'block', error: { code: 'store_unavailable' } });
    const unready = await fetch(`${cluster.instances[1]?.url}/readyz`);
    expect(unready.status).toBe(503);
    // A call that needs no shared state is still decided.
    expect((await finance.post<Decision>('/v1/decide', { tool: 'get_balance', args: { account_id: 'ACC-1' } })).body.effect).toBe('allow');

    await relay.open();
    let recovered: Decision | undefined;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      recovered = (await finance.post<Decision>('/v1/decide', payment(200))).body;
      if (recovered.effect === 'allow') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(recovered?.effect).toBe('allow');
    expect((await fetch(`${cluster.instances[1]?.url}/readyz`)).status).toBe(200);
  }, 60_000);

  it('rebuilds lost counters from the audit trail before counting again: the hour still holds 50 payments', async () => {
    // 11 payments were allowed in the previous test (10 + the recovery probe). Redis loses everything:
    await deleteRedisPrefix(cluster.prefix);
    const finance = (i: number) => cluster.agent(i % 2, 'finance-bot-1');
    let effects: string[] = [];
    const deadline = Date.now() + 15_000;
    // The first calls may block (store_unavailable) while an instance rebuilds; retry until counted.
    for (;;) {
      const reply = (await finance(0).post<Decision>('/v1/decide', payment(300))).body;
      if (reply.effect === 'allow') break;
      expect(reply.error?.code).toBe('store_unavailable');
      if (Date.now() > deadline) throw new Error('counters were not rebuilt');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const replies = await Promise.all(Array.from({ length: 60 }, (_, i) => finance(i).post<Decision>('/v1/decide', payment(400 + i))));
    effects = replies.map((r) => r.body.effect);
    // 11 before the loss + 1 probe + 38 now = 50.
    expect(effects.filter((e) => e === 'allow')).toHaveLength(38);
    expect(replies.filter((r) => r.body.rule === 'transaction-rate')).toHaveLength(22);
  }, 60_000);
});
