import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditStreamClient, chainProblems, writeEdgeDecisions } from './support/audit-stream.js';
import { startCluster, type Cluster } from './support/cluster.js';

/**
 * The audit stream of one instance carries the records every instance writes to the shared
 * PostgreSQL chain: woken by the Redis event bus, or without Redis by its periodic read of the store.
 */
for (const withRedis of [true, false]) {
  describe(`audit stream over PostgreSQL, two instances${withRedis ? ' + Redis' : ', no Redis (periodic read only)'}`, () => {
    let cluster: Cluster;
    let cookie: Record<string, string>;
    beforeAll(async () => {
      cluster = await startCluster(2, withRedis ? { heartbeatMs: 500 } : { heartbeatMs: 500, redisUrl: undefined, auditPollMs: 200 });
      cookie = { cookie: (await cluster.admin(0)).cookie };
    }, 120_000);
    afterAll(async () => {
      await cluster?.dispose();
    });

    const newest = async (): Promise<number> => {
      const { body } = await (await cluster.admin(1)).get<{ records: { seq: number }[] }>('/v1/audit?limit=1');
      return body.records[0]?.seq ?? 0;
    };

    it('streams on instance A the records written on instance B, and on both at once, without gap or duplicate', async () => {
      const start = await newest();
      const client = await AuditStreamClient.open(cluster.instances[0]?.url as string, cookie, { query: `?after=${start}` });
      // Only B writes: A's stream can learn of these records only from the shared store.
      await writeEdgeDecisions(cluster.agent(1, 'support-bot-1'), 20, `b-only-${String(withRedis)}`);
      const fromB = await client.readThrough(start + 20);
      expect(fromB.map((r) => r.type)).toEqual(Array.from({ length: 20 }, () => 'decision'));
      // Both write at once, in many small batches: commits interleave on the chain lock.
      const batches = Array.from({ length: 40 }, (_, i) => writeEdgeDecisions(cluster.agent(i % 2, 'support-bot-1'), 25, `both-${String(withRedis)}-${i}`));
      await Promise.all(batches);
      const head = await newest();
      const rest = await client.readThrough(head);
      client.abort();
      const records = [...fromB, ...rest];
      expect(records.length).toBe(head - start);
      expect(chainProblems(records, start + 1)).toEqual([]);
    }, 60_000);
  });
}
