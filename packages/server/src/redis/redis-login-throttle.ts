import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { LoginReservation, LoginThrottle, LoginWindow } from '../services/login-throttle.js';

/**
 * Reserve a login attempt in every window, or in none, as ONE Lua script: Redis runs a script
 * atomically, so of N attempts made at once on any number of instances at most `max` per window are
 * counted. Each window is a sorted set of attempts (score = time in ms, member = the attempt's
 * ticket); attempts stamped later than `at` count (a clock stepping back never re-opens a window).
 *
 * KEYS: window keys.  ARGV: at, window (ms), ticket, then max per key.
 * Returns 0 when counted, else the milliseconds until the earliest full window has room.
 */
const RESERVE = `
local at = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local wait = 0
for i = 1, #KEYS do
  local key = KEYS[i]
  redis.call('ZREMRANGEBYSCORE', key, '-inf', at - window)
  local max = tonumber(ARGV[3 + i])
  local count = redis.call('ZCARD', key)
  if count >= max then
    local oldest = redis.call('ZRANGE', key, count - max, count - max, 'WITHSCORES')
    local room = tonumber(oldest[2]) + window - at
    if room < 1 then room = 1 end
    if room > wait then wait = room end
  end
end
if wait > 0 then return wait end
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], at, ARGV[3])
  local ttl = 2 * window
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 0
`;

type ScriptedRedis = Redis & { airlockLoginReserve(...args: (string | number)[]): Promise<number> };

/**
 * The login throttle shared by every instance of a fleet (AIRLOCK_REDIS_URL). A failed or
 * timed-out command rejects, and the login is refused with `store_unavailable` (fail closed).
 *
 * Unlike the limit counters, the attempts are not rebuilt when Redis loses its data: a loss gives
 * each (username, address) at most one more window's worth of guesses.
 */
export class RedisLoginThrottle implements LoginThrottle {
  private readonly redis: ScriptedRedis;

  constructor(
    redis: Redis,
    /** Contains a `{hash tag}`: the keys of one script must share a cluster slot. */
    private readonly prefix = 'airlock:{logins}:',
  ) {
    redis.defineCommand('airlockLoginReserve', { lua: RESERVE });
    this.redis = redis as ScriptedRedis;
  }

  async reserve(windows: readonly LoginWindow[], windowMs: number, atMs: number): Promise<LoginReservation> {
    const ticket = randomUUID();
    const args: (string | number)[] = [windows.length, ...windows.map((w) => this.prefix + w.key), Math.trunc(atMs), windowMs, ticket, ...windows.map((w) => w.max)];
    const waitMs = Number(await this.redis.airlockLoginReserve(...args));
    return waitMs === 0 ? { ok: true, ticket } : { ok: false, retryAfter: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  async succeed(ticket: string, windows: readonly string[], clear: readonly string[]): Promise<void> {
    const batch = this.redis.multi();
    for (const key of windows) batch.zrem(this.prefix + key, ticket);
    for (const key of clear) batch.del(this.prefix + key);
    await batch.exec();
  }
}
