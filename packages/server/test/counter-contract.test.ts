import { MemoryCounterStore, type CounterStore, type LimitCheck, type Release } from '@airlock/core';
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
const DAY = 24 * HOUR;
/** Takes back `amount` consumed on `key` at `atMs` (a budget's 24 h window). */
const release = (id: string, key: string, atMs: number, amount: number, windowMs = DAY): Release => ({ id, key, atMs, amount, windowMs });
/** The window total of `key` at `atMs`, read with a zero-amount check. */
async function usedOf(store: CounterStore, key: string, atMs: number, windowMs = DAY): Promise<number> {
  return (await store.checkAndConsume([{ key, windowMs, max: Number.MAX_SAFE_INTEGER, amount: 0, blocking: false }], atMs)).results[0]?.used ?? NaN;
}

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

  it('keeps what a longer window counts on a key first charged under a shorter one (a version that lengthens a window)', async () => {
    const [store] = (await impl.open()) as [CounterStore];
    const t0 = 1_790_000_000_000;
    const month = 30 * DAY;
    const charge = (amount: number, atMs: number, windowMs: number) => store.checkAndConsume([{ key: 'widened', windowMs, max: 100, amount, blocking: true }], atMs);
    // First charged under a 24 h window (the old version), then under 30 days (the new one).
    expect((await charge(1, t0, DAY)).consumed).toBe(true);
    expect((await charge(45, t0 + HOUR, month)).consumed).toBe(true);
    expect((await charge(45, t0 + 2 * HOUR, month)).consumed).toBe(true);
    // Three days on, a later charge must not drop the 30-day ones as if the window were still 24 h.
    expect((await charge(4, t0 + 3 * DAY, month)).consumed).toBe(true);
    expect(await usedOf(store, 'widened', t0 + 3 * DAY + 1, month)).toBeGreaterThanOrEqual(94);
    expect((await charge(45, t0 + 3 * DAY + 2, month)).consumed).toBe(false);
  });

  it('keeps a long window\'s spending through a version that shortened it and one that put it back', async () => {
    const [store] = (await impl.open()) as [CounterStore];
    const t0 = 1_790_000_000_000;
    const month = 30 * DAY;
    const charge = (amount: number, atMs: number, windowMs: number) => store.checkAndConsume([{ key: 'narrowed', windowMs, max: 100, amount, blocking: true }], atMs);
    // 90 spent under the 30-day budget.
    expect((await charge(90, t0, month)).consumed).toBe(true);
    // Ten days on, a version with a one-hour window: the 90 is outside it, a charge fits.
    expect((await charge(50, t0 + 10 * DAY, HOUR)).consumed).toBe(true);
    // And the next day the 30 days are back: 90 + 50 were spent inside them. Trimming by the hour
    // window would have forgotten both, and handed out the whole budget again.
    expect(await usedOf(store, 'narrowed', t0 + 11 * DAY, month)).toBe(140);
    expect((await charge(1, t0 + 11 * DAY + 1, month)).consumed).toBe(false);
    // Past the 30 days of the first charge, only the later one counts.
    expect(await usedOf(store, 'narrowed', t0 + month + 1, month)).toBe(50);
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

  it('releases a consumption: the window total drops by it', async () => {
    const [store] = (await impl.open()) as [CounterStore];
    const t0 = 1_790_000_000_000;
    await store.checkAndConsume([budget('rel-a', 100_000_000, 75_000_000), rate('rel-r', 5)], t0);
    await store.release?.([release('apr_1.d.0', 'rel-a', t0, 75_000_000), release('apr_1.d.1', 'rel-r', t0, 1, HOUR)]);
    expect(await usedOf(store, 'rel-a', t0 + 1)).toBe(0);
    expect(await usedOf(store, 'rel-r', t0 + 1, HOUR)).toBe(0);
    // The budget is whole again: $50 + $50 fit, a cent more is over.
    expect((await store.checkAndConsume([budget('rel-a', 100_000_000, 50_000_000)], t0 + 2)).results[0]?.exceeded).toBe(false);
    expect((await store.checkAndConsume([budget('rel-a', 100_000_000, 50_000_000)], t0 + 3)).results[0]?.exceeded).toBe(false);
    expect((await store.checkAndConsume([budget('rel-a', 100_000_000, 10_000)], t0 + 4)).results[0]?.exceeded).toBe(true);
  });

  it('releases once per id, with 100 concurrent copies from several instances', async () => {
    const stores = await impl.open(2);
    const t0 = 1_790_000_000_000;
    await (stores[0] as CounterStore).checkAndConsume([budget('rel-b', 100_000_000, 75_000_000)], t0);
    await (stores[0] as CounterStore).checkAndConsume([budget('rel-b', 100_000_000, 20_000_000)], t0 + 1);
    const releases = Array.from({ length: 100 }, (_, i) => (stores[i % stores.length] as CounterStore).release?.([release('apr_2.d.0', 'rel-b', t0, 75_000_000)]));
    await Promise.all(releases);
    expect(await usedOf(stores[1] as CounterStore, 'rel-b', t0 + 2)).toBe(20_000_000);
    // Alone, again, later: still once.
    await (stores[2] as CounterStore).release?.([release('apr_2.d.0', 'rel-b', t0, 75_000_000)]);
    expect(await usedOf(stores[0] as CounterStore, 'rel-b', t0 + 3)).toBe(20_000_000);
  });

  it('counts a release at the time of the consumption it takes back, so both leave the window together', async () => {
    const [store] = (await impl.open()) as [CounterStore];
    const t0 = 1_790_000_000_000;
    await store.checkAndConsume([budget('rel-c', 100_000_000, 75_000_000)], t0);
    await store.checkAndConsume([budget('rel-c', 100_000_000, 20_000_000)], t0 + 12 * HOUR);
    await store.release?.([release('apr_3.d.0', 'rel-c', t0, 75_000_000)]);
    expect(await usedOf(store, 'rel-c', t0 + 12 * HOUR + 1)).toBe(20_000_000);
    // A day after the first consumption, it and its release are both out; the $20 still counts.
    expect(await usedOf(store, 'rel-c', t0 + DAY + 1)).toBe(20_000_000);
    expect(await usedOf(store, 'rel-c', t0 + 12 * HOUR + DAY + 1)).toBe(0);
  });

  it('judges a replacing call as if the replaced consumption were released, and releases nothing itself', async () => {
    const [store] = (await impl.open()) as [CounterStore];
    const t0 = 1_790_000_000_000;
    const max = 100_000_000;
    await store.checkAndConsume([budget('rep-a', max, 75_000_000, true)], t0);
    const replaced = release('apr_4.d.0', 'rep-a', t0, 75_000_000);
    // Without the replacement, $80 more would pass the blocking cap; replacing the $75 it fits.
    expect((await store.checkAndConsume([budget('rep-a', max, 80_000_000, true)], t0 + 1)).consumed).toBe(false);
    const replacing = await store.checkAndConsume([budget('rep-a', max, 80_000_000, true)], t0 + 2, [replaced]);
    expect(replacing).toEqual({ consumed: true, results: [{ used: 0, exceeded: false }] });
    // Until the replaced consumption is released both count (the safe side), then only the new one.
    expect(await usedOf(store, 'rep-a', t0 + 3)).toBe(155_000_000);
    await store.release?.([replaced]);
    expect(await usedOf(store, 'rep-a', t0 + 4)).toBe(80_000_000);
    // A consumption already released is not discounted a second time.
    expect((await store.checkAndConsume([budget('rep-a', max, 30_000_000, true)], t0 + 5, [replaced])).consumed).toBe(false);
    // Another key's consumption changes nothing for this one.
    await store.checkAndConsume([budget('rep-b', max, 90_000_000, true)], t0 + 6);
    const other = await store.checkAndConsume([budget('rep-b', max, 20_000_000, true)], t0 + 7, [release('apr_5.d.0', 'rep-c', t0, 90_000_000)]);
    expect(other.consumed).toBe(false);
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

describe('Redis counter keys live as long as their longest window needs', () => {
  it('a charge under a short window renews a key for two of its longest windows, and the mark is never counted', async () => {
    const [store] = (await redisStores(1)) as [RedisCounterStore];
    const client = redisClients.at(-1) as Redis;
    const key = `${store.prefix}kept`;
    const t0 = 1_790_000_000_000;
    const month = 30 * DAY;
    const charge = (amount: number, atMs: number, windowMs: number) => store.checkAndConsume([{ key: 'kept', windowMs, max: 100, amount, blocking: true }], atMs);
    await charge(10, t0, month);
    // As if most of its life had passed: one second left.
    await client.pexpire(key, 1000);
    await charge(1, t0 + 1, HOUR);
    expect(await client.pttl(key)).toBeGreaterThan(2 * month - 60_000);
    // The mark: one member at -inf naming the longest window; the sums never include it.
    expect(await client.zrangebyscore(key, '-inf', '-inf')).toEqual([`~keep:${month}`]);
    expect(await usedOf(store, 'kept', t0 + 2, month)).toBe(11);
    expect(await usedOf(store, 'kept', t0 + 2, HOUR)).toBe(11);
  });
});
