import { randomUUID } from 'node:crypto';
import type { CounterStore, ConsumeOutcome, LimitCheck, Release } from '@airlock/core';
import type { Redis } from 'ioredis';

/**
 * What every script shares: a key keeps its entries for two of the LONGEST windows it was ever
 * charged with, not the current one (as the in-memory store's logs do). Otherwise a policy
 * that shortened a 30-day budget to an hour, even for one call, trimmed 30 days of spending, and
 * putting the 30 days back handed the whole budget out again (a fail-open). The longest window is
 * a member "~keep:<ms>" at score -inf: no window sum reads it (they start above at - window) and
 * the trim spares it (it starts above -inf).
 */
const RETENTION = `
local function retention(key, window)
  local keep = window
  local mark = redis.call('ZRANGEBYSCORE', key, '-inf', '-inf')[1]
  local kept = mark and tonumber(string.sub(mark, 7))
  if kept and kept > keep then keep = kept end
  return keep, mark, kept
end
local function retain(key, window)
  local keep, mark, kept = retention(key, window)
  if kept ~= keep then
    if mark then redis.call('ZREM', key, mark) end
    redis.call('ZADD', key, '-inf', '~keep:' .. keep)
  end
  local ttl = 2 * keep
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
end
`;

/**
 * Check-and-consume as ONE Lua script, so every instance sees the same exact rolling windows:
 * Redis runs a script atomically, so no other consumption can land between reading the windows
 * and adding to them.
 *
 * Each counter key is a sorted set of consumptions: score = time (ms), member = "<id>:<amount>".
 * A window total sums the members with score > at - window (so, as in the in-memory store, entries
 * stamped later than `at` count: a clock stepping back never re-opens a window). Entries two of the
 * key's longest windows behind `at` are trimmed, and a key expires two of them after its last
 * consumption (RETENTION).
 * A release is a member "x.<release id>:-<amount>" at the time of the consumption it takes back,
 * added at most once (the member is named by the release id).
 *
 * The script refuses to answer when the epoch marker is missing: Redis lost its data (restart
 * without persistence, flush, failover to an empty replica), and counting from zero would hand out
 * fresh budgets. The server then rebuilds the counters from the audit trail and sets the marker.
 *
 * KEYS: marker, counter keys…  ARGV: at, id, then per key: window, max, amount, blocking (1|0),
 * then the number of consumptions being replaced and per one: key index (1-based), time, amount,
 * release member. A replaced consumption still in its window and not yet released is not counted.
 * Returns: [consumed (1|0), used per key…] or an error reply `AIRLOCK_NO_EPOCH`.
 */
const CHECK_AND_CONSUME = `${RETENTION}
if redis.call('EXISTS', KEYS[1]) == 0 then
  return redis.error_reply('AIRLOCK_NO_EPOCH counter state is missing in Redis (lost or never restored)')
end
local at = tonumber(ARGV[1])
local id = ARGV[2]
local n = #KEYS - 1
local used = {}
for i = 1, n do
  local base = 2 + (i - 1) * 4
  local window = tonumber(ARGV[base + 1])
  local key = KEYS[i + 1]
  redis.call('ZREMRANGEBYSCORE', key, '(-inf', at - 2 * retention(key, window))
  local members = redis.call('ZRANGEBYSCORE', key, '(' .. (at - window), '+inf')
  local sum = 0
  for _, member in ipairs(members) do
    sum = sum + tonumber(string.sub(member, string.find(member, ':', 1, true) + 1))
  end
  used[i] = sum
end
local r = 2 + n * 4 + 1
for j = 1, tonumber(ARGV[r] or '0') do
  local base = r + (j - 1) * 4
  local k = tonumber(ARGV[base + 1])
  local window = tonumber(ARGV[2 + (k - 1) * 4 + 1])
  if tonumber(ARGV[base + 2]) > at - window and not redis.call('ZSCORE', KEYS[k + 1], ARGV[base + 4]) then
    used[k] = used[k] - tonumber(ARGV[base + 3])
  end
end
local blocked = false
for i = 1, n do
  local base = 2 + (i - 1) * 4
  if used[i] < 0 then used[i] = 0 end
  if ARGV[base + 4] == '1' and used[i] + tonumber(ARGV[base + 3]) > tonumber(ARGV[base + 2]) then blocked = true end
end
local reply = { blocked and 0 or 1 }
for i = 1, n do reply[i + 1] = used[i] end
if not blocked then
  for i = 1, n do
    local base = 2 + (i - 1) * 4
    local window = tonumber(ARGV[base + 1])
    local key = KEYS[i + 1]
    redis.call('ZADD', key, at, id .. '.' .. i .. ':' .. ARGV[base + 3])
    retain(key, window)
  end
end
return reply
`;

/**
 * Takes back consumptions, all at once: KEYS: counter keys; ARGV per key: time, window, release
 * member. NX: a release already applied (by another instance, or by the audit replay) is not added twice.
 */
const RELEASE = `${RETENTION}
for i = 1, #KEYS do
  local base = (i - 1) * 3
  redis.call('ZADD', KEYS[i], 'NX', tonumber(ARGV[base + 1]), ARGV[base + 3])
  retain(KEYS[i], tonumber(ARGV[base + 2]))
end
return #KEYS
`;

/** Re-adds recorded consumptions (audit replay); KEYS: counter keys; ARGV: per key: at, window, amount, id. */
const RESTORE = `${RETENTION}
for i = 1, #KEYS do
  local base = (i - 1) * 4
  local at = tonumber(ARGV[base + 1])
  redis.call('ZADD', KEYS[i], at, ARGV[base + 4] .. ':' .. ARGV[base + 3])
  retain(KEYS[i], tonumber(ARGV[base + 2]))
end
return #KEYS
`;

type ScriptedRedis = Redis & {
  airlockCheckAndConsume(...args: (string | number)[]): Promise<number[]>;
  airlockRestore(...args: (string | number)[]): Promise<number>;
  airlockReleaseConsumption(...args: (string | number)[]): Promise<number>;
};

export interface RedisCounterStoreOptions {
  /**
   * Prefix of every key. Contains a `{hash tag}` so that all counter keys and the marker live in
   * one cluster slot: a multi-key script needs that on Redis Cluster.
   */
  prefix?: string;
}

/** The error the store throws when Redis lost the counter state; the engine turns it into a block. */
export const COUNTERS_LOST = 'AIRLOCK_NO_EPOCH';

/**
 * Limit counters in Redis, shared by every server instance. Exact rolling windows, one atomic
 * script per decision. A failed or timed-out command rejects, and the engine then blocks the call
 * with `store_unavailable` (fail closed). Amounts are integers below 2^53 (Lua numbers are doubles).
 */
export class RedisCounterStore implements CounterStore {
  readonly prefix: string;
  private readonly redis: ScriptedRedis;

  constructor(redis: Redis, options: RedisCounterStoreOptions = {}) {
    this.prefix = options.prefix ?? 'airlock:{limits}:';
    redis.defineCommand('airlockCheckAndConsume', { lua: CHECK_AND_CONSUME });
    redis.defineCommand('airlockRestore', { lua: RESTORE });
    redis.defineCommand('airlockReleaseConsumption', { lua: RELEASE });
    this.redis = redis as ScriptedRedis;
  }

  /** The key whose presence says the counters in Redis are complete. */
  get markerKey(): string {
    return `${this.prefix}epoch`;
  }

  async checkAndConsume(checks: readonly LimitCheck[], atMs: number, replacing: readonly Release[] = []): Promise<ConsumeOutcome> {
    const args: (string | number)[] = [checks.length + 1, this.markerKey];
    for (const check of checks) args.push(this.prefix + check.key);
    args.push(Math.trunc(atMs), randomUUID());
    for (const check of checks) args.push(check.windowMs, check.max, check.amount, check.blocking ? 1 : 0);
    const replaced: (string | number)[] = [];
    checks.forEach((check, i) => {
      for (const release of replacing) {
        if (release.key === check.key) replaced.push(i + 1, Math.trunc(release.atMs), release.amount, releaseMember(release));
      }
    });
    args.push(replaced.length / 4, ...replaced);
    const reply = await this.redis.airlockCheckAndConsume(...args);
    const consumed = reply[0] === 1;
    return {
      consumed,
      results: checks.map((check, i) => {
        const used = Number(reply[i + 1]);
        return { used, exceeded: used + check.amount > check.max };
      }),
    };
  }

  /** Adds consumptions recorded earlier (rebuilding from the audit trail), in batches. */
  async restore(entries: readonly { key: string; atMs: number; amount: number; windowMs: number }[]): Promise<void> {
    for (let i = 0; i < entries.length; i += 200) {
      const batch = entries.slice(i, i + 200);
      const args: (string | number)[] = [batch.length];
      for (const entry of batch) args.push(this.prefix + entry.key);
      for (const entry of batch) args.push(Math.trunc(entry.atMs), entry.windowMs, entry.amount, `r.${randomUUID()}`);
      await this.redis.airlockRestore(...args);
    }
  }

  /** Takes back consumptions, each release id once across every instance; in batches of one script each. */
  async release(releases: readonly Release[]): Promise<void> {
    for (let i = 0; i < releases.length; i += 200) {
      const batch = releases.slice(i, i + 200);
      const args: (string | number)[] = [batch.length];
      for (const release of batch) args.push(this.prefix + release.key);
      for (const release of batch) args.push(Math.trunc(release.atMs), release.windowMs, releaseMember(release));
      await this.redis.airlockReleaseConsumption(...args);
    }
  }

  /** True when the counters are known to be complete (the marker is set). */
  async hasEpoch(): Promise<boolean> {
    return (await this.redis.exists(this.markerKey)) === 1;
  }

  /** Marks the counters complete; returns false if another instance did it first. */
  async setEpoch(value: string): Promise<boolean> {
    return (await this.redis.set(this.markerKey, value, 'NX')) === 'OK';
  }
}

/** The sorted-set member of a release: named by its id, so adding it again changes nothing. */
function releaseMember(release: Release): string {
  return `x.${release.id}:${-release.amount}`;
}
