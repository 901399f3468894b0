import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisLoginThrottle } from '../src/redis/redis-login-throttle.js';
import { MemoryLoginThrottle, type LoginThrottle } from '../src/services/login-throttle.js';
import { deleteRedisPrefix, REDIS_URL, uniqueName } from './support/shared-services.js';

/** The same behaviour from the in-memory throttle and the Redis one (several instances). */
const WINDOW = 60_000;
const T0 = 1_800_000_000_000;
const redis = new Redis(REDIS_URL);
const prefix = `${uniqueName('logins')}:{logins}:`;

const implementations: [string, () => LoginThrottle][] = [
  ['memory', () => new MemoryLoginThrottle()],
  ['redis', () => new RedisLoginThrottle(redis, `${prefix}${uniqueName('t')}:`)],
];

afterAll(async () => {
  await deleteRedisPrefix(prefix.split('{')[0] as string);
  redis.disconnect();
});

describe.each(implementations)('login throttle contract: %s', (_name, make) => {
  it('admits exactly max of 100 concurrent reservations', async () => {
    const throttle = make();
    const results = await Promise.all(Array.from({ length: 100 }, () => throttle.reserve([{ key: 'a', max: 5 }], WINDOW, T0)));
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.retryAfter === 60)).toBe(true);
  });

  it('says when the window has room again, and has it then', async () => {
    const throttle = make();
    for (let i = 0; i < 3; i++) expect((await throttle.reserve([{ key: 'a', max: 3 }], WINDOW, T0 + i * 10_000)).ok).toBe(true);
    expect(await throttle.reserve([{ key: 'a', max: 3 }], WINDOW, T0 + 25_000)).toEqual({ ok: false, retryAfter: 35 });
    expect(await throttle.reserve([{ key: 'a', max: 3 }], WINDOW, T0 + 59_999)).toEqual({ ok: false, retryAfter: 1 });
    expect((await throttle.reserve([{ key: 'a', max: 3 }], WINDOW, T0 + 60_000)).ok).toBe(true);
  });

  it('counts in every window or in none', async () => {
    const throttle = make();
    for (let i = 0; i < 2; i++) expect((await throttle.reserve([{ key: 'user', max: 2 }], WINDOW, T0)).ok).toBe(true);
    // The user window is full: the address window must not be charged for the refusal.
    for (let i = 0; i < 5; i++) expect((await throttle.reserve([{ key: 'address', max: 1 }, { key: 'user', max: 2 }], WINDOW, T0)).ok).toBe(false);
    expect((await throttle.reserve([{ key: 'address', max: 1 }], WINDOW, T0)).ok).toBe(true);
  });

  it('gives a successful attempt its place back and empties the windows it clears', async () => {
    const throttle = make();
    const first = await throttle.reserve([{ key: 'address', max: 2 }, { key: 'user', max: 2 }], WINDOW, T0);
    const second = await throttle.reserve([{ key: 'address', max: 2 }, { key: 'user', max: 2 }], WINDOW, T0);
    expect(first.ok && second.ok).toBe(true);
    expect((await throttle.reserve([{ key: 'user', max: 2 }], WINDOW, T0)).ok).toBe(false);
    if (!second.ok) throw new Error('unreachable');
    await throttle.succeed(second.ticket, ['user'], ['address']);
    // One place back in the user window (the first attempt keeps its own); the address window is empty.
    expect((await throttle.reserve([{ key: 'user', max: 2 }], WINDOW, T0)).ok).toBe(true);
    expect((await throttle.reserve([{ key: 'user', max: 2 }], WINDOW, T0)).ok).toBe(false);
    for (let i = 0; i < 2; i++) expect((await throttle.reserve([{ key: 'address', max: 2 }], WINDOW, T0)).ok).toBe(true);
  });

  it('keeps counting attempts stamped later than now when the clock steps back', async () => {
    const throttle = make();
    for (let i = 0; i < 2; i++) expect((await throttle.reserve([{ key: 'a', max: 2 }], WINDOW, T0)).ok).toBe(true);
    expect((await throttle.reserve([{ key: 'a', max: 2 }], WINDOW, T0 - 45 * 60_000)).ok).toBe(false);
  });
});
