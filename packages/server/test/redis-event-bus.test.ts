import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisEventBus } from '../src/redis/redis-event-bus.js';
import type { AirlockEvent } from '../src/services/events.js';
import { REDIS_URL, uniqueName } from './support/shared-services.js';

const prefix = `${uniqueName('bus')}:`;
const clients: Redis[] = [];
function client(): Redis {
  const redis = new Redis(REDIS_URL);
  clients.push(redis);
  return redis;
}
afterAll(() => {
  for (const redis of clients) redis.disconnect();
});

const decision = (id: string): AirlockEvent => ({ type: 'decision', data: { id } as never });
const until = async (check: () => Promise<boolean> | boolean): Promise<void> => {
  for (let i = 0; i < 200 && !(await check()); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(await check()).toBe(true);
};

/**
 * Decision events reach another instance only while it has a listener for them (a feed open):
 * its channel is subscribed by the first listener and left by the last. Other events reach every
 * instance always.
 */
describe('Redis event bus: decision events on demand', () => {
  it('subscribes the decision channel only while a listener is open, and delivers across instances meanwhile', async () => {
    const admin = client();
    const [a, b] = [await RedisEventBus.connect(client(), { prefix }), await RedisEventBus.connect(client(), { prefix })];
    const subscribers = async () => (((await admin.call('PUBSUB', 'NUMSUB', `${prefix}events:decision`)) as [string, number])[1]);
    const shared = async () => (((await admin.call('PUBSUB', 'NUMSUB', `${prefix}events`)) as [string, number])[1]);
    try {
      expect(await shared()).toBe(2);
      expect(await subscribers()).toBe(0);

      const seen: string[] = [];
      const policies: unknown[] = [];
      b.subscribe(['policy'], (event) => policies.push(event.data));
      // 100 listeners on one instance, opened and closed concurrently, one subscription.
      const closers = Array.from({ length: 100 }, () => b.subscribe(['decision', 'approval'], (event) => seen.push((event.data as { id: string }).id)));
      await until(async () => (await subscribers()) === 1);
      a.publish(decision('d1'));
      await until(() => seen.length === 100);
      expect(new Set(seen)).toEqual(new Set(['d1']));

      for (const close of closers.slice(1)) close();
      closers[1]?.();
      expect(await subscribers()).toBe(1);
      closers[0]?.();
      closers[0]?.();
      await until(async () => (await subscribers()) === 0);
      a.publish(decision('d2'));
      a.publish({ type: 'policy', data: { version: 7 } as never });
      await until(() => policies.length === 1);
      expect(seen).not.toContain('d2');

      // A listener on the publishing instance hears its own events locally, without Redis.
      const local: string[] = [];
      const close = a.subscribe(['decision'], (event) => local.push((event.data as { id: string }).id));
      a.publish(decision('d3'));
      expect(local).toEqual(['d3']);
      close();
    } finally {
      await a.close();
      await b.close();
    }
  });
});
