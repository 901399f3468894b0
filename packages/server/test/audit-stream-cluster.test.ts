import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditStreamClient, chainProblems, writeEdgeDecisions } from './support/audit-stream.js';
import { startCluster, type Cluster } from './support/cluster.js';
import { signIn } from './support/http.js';
import { ADMIN_PASSWORD } from './support/server.js';
import { seededRandom } from './support/random.js';
import { SiemReceiver } from './support/siem-receiver.js';

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

describe('audit webhook forwarder on two instances over PostgreSQL + Redis', () => {
  const SECRET = 'cluster forwarder test secret';
  const random = seededRandom(7);
  const receiver = new SiemReceiver(SECRET, () => random() < 0.2);
  let cluster: Cluster;
  beforeAll(async () => {
    await receiver.start();
    cluster = await startCluster(2, { auditWebhook: { url: receiver.url, secret: SECRET, batchSize: 50, minDelayMs: 2, maxDelayMs: 20, leaseMs: 3_000 }, auditPollMs: 200 });
  }, 120_000);
  afterAll(async () => {
    await cluster?.dispose();
    await receiver.close();
  });

  const settle = async (url: string): Promise<number> => {
    const { body } = await (await signIn(url, 'admin', ADMIN_PASSWORD)).get<{ records: { seq: number }[] }>('/v1/audit?limit=1');
    const head = body.records[0]?.seq ?? 0;
    const deadline = Date.now() + 60_000;
    while (receiver.last < head && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    return head;
  };

  it('forwards from one instance at a time: every record once, in order, also after the forwarding instance stops', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => writeEdgeDecisions(cluster.agent(i % 2, 'support-bot-1'), 50, `lease-${i}`)));
    const head = await settle(cluster.instances[1]?.url as string);
    // Both instances may forward; stopping either leaves the other to carry on after the last acknowledged seq.
    await cluster.instances[0]?.close();
    await writeEdgeDecisions(cluster.agent(1, 'support-bot-1'), 500, 'lease-after');
    const final = await settle(cluster.instances[1]?.url as string);
    expect(final).toBeGreaterThan(head);
    expect({ duplicates: receiver.duplicates, gaps: receiver.gaps, badSignatures: receiver.badSignatures, brokenLinks: receiver.brokenLinks }).toEqual({ duplicates: 0, gaps: 0, badSignatures: 0, brokenLinks: 0 });
    expect(receiver.accepted.map((r) => r.seq)).toEqual(Array.from({ length: final }, (_, i) => i + 1));
  }, 120_000);
});
