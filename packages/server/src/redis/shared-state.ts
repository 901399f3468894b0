import { Redis } from 'ioredis';
import { RedisCounterStore } from './redis-counter-store.js';
import { RedisEventBus } from './redis-event-bus.js';
import { RedisLocks } from './redis-lock.js';
import { RedisLoginThrottle } from './redis-login-throttle.js';

export interface SharedStateOptions {
  /**
   * Prefix of every key and channel; instances that share state must use the same one (tests use
   * one per test). The counters' part carries a `{hash tag}` (one cluster slot per script).
   */
  prefix?: string;
  /** A Redis command slower than this fails, and the decision that needed it fails closed. Default 1 s. */
  commandTimeoutMs?: number;
}

/**
 * What several server instances share through Redis: limit counters, live events (with policy
 * activations), locks and the login throttle. Commands are never queued while Redis is unreachable: they fail at once,
 * so decisions block with `store_unavailable` instead of hanging; the client reconnects by itself.
 */
export interface SharedState {
  counters: RedisCounterStore;
  events: RedisEventBus;
  locks: RedisLocks;
  /** Login attempts per username (and address), counted by all instances together. */
  logins: RedisLoginThrottle;
  /** Answers when Redis does (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function openSharedState(url: string, options: SharedStateOptions = {}): Promise<SharedState> {
  const prefix = options.prefix ?? 'airlock:';
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 1_000,
    connectTimeout: 2_000,
    // Reconnect for ever, backing off to one attempt a second.
    retryStrategy: (attempt) => Math.min(50 * attempt, 1_000),
  });
  // Connection errors surface as failed commands; the client keeps reconnecting.
  redis.on('error', () => undefined);
  await redis.connect();
  const counters = new RedisCounterStore(redis, { prefix: `${prefix}{limits}:` });
  const locks = new RedisLocks(redis, { prefix: `${prefix}{locks}:` });
  const logins = new RedisLoginThrottle(redis, `${prefix}{logins}:`);
  let events: RedisEventBus;
  try {
    events = await RedisEventBus.connect(redis, { prefix });
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  return {
    counters,
    events,
    locks,
    logins,
    async ping() {
      await redis.ping();
    },
    async close() {
      await events.close();
      redis.disconnect();
    },
  };
}
