import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AirlockError } from '../errors.js';
import { KeyedLock, type Locks } from '../services/keyed-lock.js';

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export interface RedisLocksOptions {
  prefix?: string;
  /** A holder that dies keeps the lock at most this long. Default 15 s (work under it takes ms). */
  leaseMs?: number;
  /** Giving up (fail closed with `store_unavailable`) after this long. Default 10 s. */
  waitMs?: number;
}

/**
 * Per-key mutual exclusion across server instances: `SET key token NX PX lease`, released only by
 * its holder (compare-and-delete). Work for one key is first serialised inside the process, so
 * an instance polls Redis for a key at most once at a time.
 */
export class RedisLocks implements Locks {
  private readonly local = new KeyedLock();
  private readonly prefix: string;
  private readonly leaseMs: number;
  private readonly waitMs: number;

  constructor(
    private readonly redis: Redis,
    options: RedisLocksOptions = {},
  ) {
    this.prefix = options.prefix ?? 'airlock:{locks}:';
    this.leaseMs = options.leaseMs ?? 15_000;
    this.waitMs = options.waitMs ?? 10_000;
    redis.defineCommand('airlockRelease', { numberOfKeys: 1, lua: RELEASE });
  }

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    return this.local.run(key, async () => {
      const name = this.prefix + key;
      const token = randomUUID();
      await this.acquire(name, token);
      try {
        return await work();
      } finally {
        await (this.redis as Redis & { airlockRelease(key: string, token: string): Promise<number> }).airlockRelease(name, token).catch(() => undefined);
      }
    });
  }

  private async acquire(name: string, token: string): Promise<void> {
    const deadline = Date.now() + this.waitMs;
    for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
      if ((await this.redis.set(name, token, 'PX', this.leaseMs, 'NX')) === 'OK') return;
      if (Date.now() >= deadline) throw new AirlockError('store_unavailable', `could not take the lock ${name} within ${this.waitMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, delay + Math.random() * delay));
    }
  }
}
