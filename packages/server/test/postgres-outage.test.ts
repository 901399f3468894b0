import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardClients } from '../src/store/postgres/postgres-store.js';
import { startCluster, type Cluster } from './support/cluster.js';
import { POSTGRES_URL } from './support/shared-services.js';
import { TcpRelay } from './support/tcp-relay.js';

interface Decision {
  effect: string;
  error?: { code: string };
}

describe('PostgreSQL outage', () => {
  const relay = new TcpRelay(Number(new URL(POSTGRES_URL).port || 5432));
  let cluster: Cluster;
  beforeAll(async () => {
    await relay.open();
    const url = new URL(POSTGRES_URL);
    url.port = String(relay.port);
    cluster = await startCluster(1, { databaseUrl: url.toString() });
  }, 120_000);
  afterAll(async () => {
    await relay.cut();
    await relay.open(); // lets dispose() close the pool cleanly
    await cluster?.dispose();
  });

  it('blocks every decision with store_unavailable while the database is unreachable, and recovers by itself', async () => {
    const support = cluster.agent(0, 'support-bot-1');
    expect((await support.post<Decision>('/v1/decide', { tool: 'get_account', args: { account_id: 'A-1' } })).body.effect).toBe('allow');

    await relay.cut();
    const started = Date.now();
    const during = await support.post<Decision>('/v1/decide', { tool: 'get_account', args: { account_id: 'A-2' } });
    expect(during.status).toBe(503);
    expect(during.body).toMatchObject({ effect: 'block', error: { code: 'store_unavailable' } });
    expect(Date.now() - started).toBeLessThan(15_000); // bounded by the pool's connect timeout, never a hang
    expect((await fetch(`${cluster.instances[0]?.url}/readyz`)).status).toBe(503);

    await relay.open();
    let recovered: Decision | undefined;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      recovered = (await support.post<Decision>('/v1/decide', { tool: 'get_account', args: { account_id: 'A-3' } })).body;
      if (recovered.effect === 'allow') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(recovered?.effect).toBe('allow');
    expect((await fetch(`${cluster.instances[0]?.url}/readyz`)).status).toBe(200);
  }, 60_000);

  it('a connection cut while checked out of the pool, between two queries, is no uncaught exception: its next query fails, and the pool replaces it', async () => {
    // A checked-out client has no listener of the pool's: without guardClients, the cut below is
    // an error event nobody hears (Vitest reports it as an unhandled error and the run fails).
    const own = new TcpRelay(Number(new URL(POSTGRES_URL).port || 5432));
    await own.open();
    const url = new URL(POSTGRES_URL);
    url.port = String(own.port);
    const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
    guardClients(pool);
    try {
      const client = await pool.connect();
      expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one).toBe(1);
      const ended = new Promise((resolve) => client.once('end', resolve));
      await own.cut();
      await ended;
      await expect(client.query('SELECT 1')).rejects.toThrow();
      client.release();
      expect(pool.totalCount).toBe(0);
      await own.open();
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one).toBe(1);
    } finally {
      await pool.end();
      await own.cut();
    }
  });
});
