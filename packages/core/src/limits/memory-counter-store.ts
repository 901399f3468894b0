import {
  isExceeded,
  type ConsumeOutcome,
  type LimitCheck,
  type LimitCheckResult,
  type SyncCounterStore,
} from './counter-store.js';

/**
 * Exact rolling windows in memory: every consumption is kept (time, amount) in time order with
 * prefix sums, so a window total is one binary search. An entry counts while
 * `entry.time > at - window`, including entries stamped later than `at`, so a clock that steps
 * backwards never re-opens a window. Entries are dropped only once they are two windows behind the
 * newest time seen, which keeps clock jumps of up to one window exact.
 */
class SlidingLog {
  private times: number[] = [];
  private amounts: number[] = [];
  /** prefix[i] = sum of amounts[0..i). */
  private prefix: number[] = [0];
  private newest = -Infinity;

  /** Sum of the entries with time > since. */
  total(since: number): number {
    const from = this.firstAfter(since);
    return (this.prefix[this.times.length] as number) - (this.prefix[from] as number);
  }

  add(time: number, amount: number, windowMs: number): void {
    const n = this.times.length;
    if (n === 0 || time >= (this.times[n - 1] as number)) {
      this.times.push(time);
      this.amounts.push(amount);
      this.prefix.push((this.prefix[n] as number) + amount);
    } else {
      // Out-of-order time (the clock stepped back): insert in place, rebuild the sums after it.
      const at = this.firstAfter(time);
      this.times.splice(at, 0, time);
      this.amounts.splice(at, 0, amount);
      this.prefix.length = at + 1;
      for (let i = at; i < this.times.length; i++) this.prefix.push((this.prefix[i] as number) + (this.amounts[i] as number));
    }
    this.newest = Math.max(this.newest, time);
    this.compact(this.newest - 2 * windowMs);
  }

  /** Index of the first entry with time > t. */
  private firstAfter(t: number): number {
    let lo = 0;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.times[mid] as number) > t) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Drops entries at or before `before`, in bulk once they are at least half the log. */
  private compact(before: number): void {
    const drop = this.firstAfter(before);
    if (drop === 0 || drop < this.times.length / 2) return;
    const base = this.prefix[drop] as number;
    this.times = this.times.slice(drop);
    this.amounts = this.amounts.slice(drop);
    this.prefix = this.prefix.slice(drop).map((sum) => sum - base);
  }
}

export class MemoryCounterStore implements SyncCounterStore {
  private readonly logs = new Map<string, SlidingLog>();

  checkAndConsumeSync(checks: readonly LimitCheck[], atMs: number): ConsumeOutcome {
    const results: LimitCheckResult[] = [];
    let blocked = false;
    for (const check of checks) {
      const used = this.logs.get(check.key)?.total(atMs - check.windowMs) ?? 0;
      const exceeded = isExceeded(used, check.amount, check.max);
      if (exceeded && check.blocking) blocked = true;
      results.push({ used, exceeded });
    }
    if (!blocked) for (const check of checks) this.restore(check.key, atMs, check.amount, check.windowMs);
    return { results, consumed: !blocked };
  }

  /**
   * Re-adds consumption recorded earlier (e.g. from the audit trail after a restart), so a restart
   * never hands an agent a fresh budget.
   */
  restore(key: string, atMs: number, amount: number, windowMs: number): void {
    let log = this.logs.get(key);
    if (!log) {
      log = new SlidingLog();
      this.logs.set(key, log);
    }
    log.add(atMs, amount, windowMs);
  }

  checkAndConsume(checks: readonly LimitCheck[], atMs: number): Promise<ConsumeOutcome> {
    return Promise.resolve(this.checkAndConsumeSync(checks, atMs));
  }

  /** Number of counter keys held; for tests and metrics. */
  get keyCount(): number {
    return this.logs.size;
  }
}
