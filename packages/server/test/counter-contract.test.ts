import { MemoryCounterStore, type CounterStore, type LimitCheck } from '@airlock/core';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisCounterStore } from '../src/redis/redis-counter-store.js';
import { deleteRedisPrefix, REDIS_URL, uniqueName } from './support/shared-services.js';

/**
 * One contract, every CounterStore: exact rolling windows, all-or-nothing consumption, a blocked
 * call consumes nothing. The Redis store must agree with the in-memory one exactly.
 */
interface Implementation {
  name: string;
  /** `peers` more stores on the same state (other instances). */
  open(peers?: number): Promise<CounterStore[]>;
}

const redisClients: Redis[] = [];
const prefixes: string[] = [];
afterAll(async () => {
  for (const client of redisClients.splice(0)) client.disconnect();
  for (const prefix of prefixes.splice(0)) await deleteRedisPrefix(prefix);
});

async function redisStores(count: number): Promise<RedisCounterStore[]> {
  const prefix = `${uniqueName('counters')}:{limits}:`;
  prefixes.push(prefix);
  const stores: RedisCounterStore[] = [];
  for (let i = 0; i < count; i++) {
    const client = new Redis(REDIS_URL);
    redisClients.push(client);
    stores.push(new RedisCounterStore(client, { prefix }));
  }
  await stores[0]?.setEpoch('test');
  return stores;
}

const implementations: Implementation[] = [
  {
    name: 'memory',
    open: async (peers = 0) => {
      const store = new MemoryCounterStore();
      return Array.from({ length: peers + 1 }, () => store);
    },
  },
  { name: 'Redis', open: (peers = 0) => redisStores(peers + 1) },
];

const HOUR = 3_600_000;
const rate = (key: string, max: number, blocking = true): LimitCheck => ({ key, windowMs: HOUR, max, amount: 1, blocking });
const budget = (key: string, max: number, amount: number, blocking = false): LimitCheck => ({ key, windowMs: 24 * HOUR, max, amount, blocking });

describe.each(implementations)('CounterStore contract: $name', (impl) => {
  it('allows exactly max calls in a rolling window and slides', async () => {
    const [store] = (await impl.open()) as [CounterStore];
    const t0 = 1_790_000_000_000;
    const outcomes: boolean[] = [];
    for (let i = 0; i < 60; i++) outcomes.push((await store.checkAndConsume([rate('a', 50)], t0 + i * 1000)).consumed);
    expect(outcomes.filter(Boolean)).toHaveLength(50);
    expect(outcomes.slice(50).every((ok) => !ok)).toBe(true);
    // Blocked calls consumed nothing: once the first call leaves the window, one more fits.
    expect((await store.checkAndConsume([rate('a', 50)], t0 + HOUR - 1)).consumed).toBe(false);
    expect((await store.checkAndConsume([rate('a', 50)], t0 + HOUR)).consumed).toBe(true);
    expect((await store.checkAndConsume([rate('a', 50)], t0 + HOUR + 1)).consumed).toBe(false);
    expect((await store.checkAndConsume([rate('a', 50)], t0 + HOUR + 1000)).consumed).toBe(true);
  });

  it('sums budgets exactly in integer units and reports the window total before the call', async () => {
    const [store] = (await impl.open()) as [CounterStore];
    const t0 = 1_790_000_000_000;
    const max = 100_000_000; // $100 in micro-units
    const r1 = await store.checkAndConsume([budget('b', max, 33_330_000)], t0);
    const r2 = await store.checkAndConsume([budget('b', max, 33_330_000)], t0 + 1);
    const r3 = await store.checkAndConsume([budget('b', max, 33_340_000)], t0 + 2);
    const r4 = await store.checkAndConsume([budget('b', max, 1)], t0 + 3);
    expect([r1, r2, r3, r4].map((r) => r.results[0])).toEqual([
      { used: 0, exceeded: false },
      { used: 33_330_000, exceeded: false },
      { used: 66_660_000, exceeded: false },
      { used: 100_000_000, exceeded: true },
    ]);
    // A non-blocking check that is exceeded still consumes (the call goes to approval, and counts).
    expect(r4.consumed).toBe(true);
    expect((await store.checkAndConsume([budget('b', max, 0)], t0 + 4)).results[0]?.used).toBe(100_000_001);
  });

  it('consumes all checks of a call or none of them', async () => {
    const [store] = (await impl.open()) as [CounterStore];
    const t0 = 1_790_000_000_000;
    await store.checkAndConsume([rate('x', 1)], t0);
    const blocked = await store.checkAndConsume([budget('y', 10, 5), rate('x', 1)], t0 + 1);
    expect(blocked).toEqual({ consumed: false, results: [{ used: 0, exceeded: false }, { used: 1, exceeded: true }] });
    expect((await store.checkAndConsume([budget('y', 10, 0)], t0 + 2)).results[0]?.used).toBe(0);
  });

  it('keeps counting entries stamped after a clock that stepped back', async () => {
    const [store] = (await impl.open()) as [CounterStore];
    const t0 = 1_790_000_000_000;
    for (let i = 0; i < 3; i++) await store.checkAndConsume([rate('c', 3)], t0 + i);
    expect((await store.checkAndConsume([rate('c', 3)], t0 - 10 * 60_000)).consumed).toBe(false);
  });

  it('is exact under concurrent calls from several instances', async () => {
    const stores = await impl.open(2);
    const t0 = 1_790_000_000_000;
    const calls = Array.from({ length: 300 }, (_, i) => (stores[i % stores.length] as CounterStore).checkAndConsume([rate('d', 50), budget('e', 1_000, 3)], t0 + i));
    const outcomes = await Promise.all(calls);
    expect(outcomes.filter((o) => o.consumed)).toHaveLength(50);
  });
});

describe('RedisCounterStore without its epoch marker', () => {
  it('refuses to count (the counters were lost) until the marker is set again', async () => {
    const [store] = (await redisStores(1)) as [RedisCounterStore];
    await store.checkAndConsume([rate('m', 5)], 1_790_000_000_000);
    const client = new Redis(REDIS_URL);
    redisClients.push(client);
    await client.del(store.markerKey);
    await expect(store.checkAndConsume([rate('m', 5)], 1_790_000_000_001)).rejects.toThrow(/AIRLOCK_NO_EPOCH/);
    await store.restore([{ key: 'm', atMs: 1_790_000_000_000, amount: 4, windowMs: HOUR }]);
    expect(await store.setEpoch('again')).toBe(true);
    expect(await store.setEpoch('twice')).toBe(false);
    const outcome = await store.checkAndConsume([rate('m', 5)], 1_790_000_000_002);
    expect(outcome.results[0]?.used).toBe(5);
  });
});
