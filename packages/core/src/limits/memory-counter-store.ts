import {
  isExceeded,
  type ConsumeOutcome,
  type LimitCheck,
  type LimitCheckResult,
  type Release,
  type SyncCounterStore,
} from './counter-store.js';

/** Shared by every log until its first entry (never written to: `add` replaces them). */
const NO_ENTRIES: number[] = [];
const NO_SUMS: number[] = [0];

/**
 * Exact rolling windows in memory: every consumption is kept (time, amount) in time order with
 * prefix sums, so a window total is one binary search. An entry counts while
 * `entry.time > at - window`, including entries stamped later than `at`, so a clock that steps
 * backwards never re-opens a window. Entries are dropped only once they are two windows behind the
 * newest time seen, which keeps clock jumps of up to one window exact.
 */
class SlidingLog {
  private times: number[] = NO_ENTRIES;
  private amounts: number[] = NO_ENTRIES;
  /** prefix[i] = sum of amounts[head..i), relative to the head. */
  private prefix: number[] = NO_SUMS;
  /** Entries before `head` have been dropped; arrays are compacted lazily. */
  private head = 0;
  newest = -Infinity;

  /**
   * The longest window the key was charged under: entries are kept for two of it. A policy version
   * that lengthens a limit's window widens the logs it charges, so they keep what it counts.
   */
  constructor(public windowMs: number) {}

  /** Sum of the entries with time > since. */
  total(since: number): number {
    const from = this.firstAfter(since);
    return (this.prefix[this.times.length] as number) - (this.prefix[from] as number);
  }

  add(time: number, amount: number): void {
    const n = this.times.length;
    if (n === 0) {
      // Most keys (a budget per account, a rate per agent) hold a handful of entries and many hold
      // one: literals of one entry take a tenth of the memory of arrays grown by `push` (V8 gives
      // a pushed-to empty array room for 17), which is what a server with 100,000s of keys keeps.
      this.times = [time];
      this.amounts = [amount];
      this.prefix = [0, amount];
    } else if (n === this.head || time >= (this.times[n - 1] as number)) {
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
    if (time > this.newest) {
      this.newest = time;
      this.dropBefore(time - 2 * this.windowMs);
    }
  }

  /** True when every entry is two windows behind `now`: the log can be forgotten. */
  idle(now: number): boolean {
    return this.newest <= now - 2 * this.windowMs;
  }

  /** Index of the first live entry with time > t. */
  private firstAfter(t: number): number {
    let lo = this.head;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.times[mid] as number) > t) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  private dropBefore(before: number): void {
    const times = this.times;
    if (this.head === times.length || (times[this.head] as number) > before) return;
    this.head = this.firstAfter(before);
    // Copy only once the dead prefix is at least half of the arrays: amortised O(1) per entry.
    if (this.head >= 32 && this.head * 2 >= times.length) {
      const base = this.prefix[this.head] as number;
      this.times = times.slice(this.head);
      this.amounts = this.amounts.slice(this.head);
      this.prefix = this.prefix.slice(this.head).map((sum) => sum - base);
      this.head = 0;
    }
  }
}

/**
 * The sweep for idle keys examines SWEEP_STEP keys every SWEEP_EVERY consumptions, resuming where it
 * stopped, instead of all keys at once: with 100,000s of keys a whole walk is a stall of
 * milliseconds for every decision waiting behind it, while a step costs a few microseconds and
 * still passes over all keys once per (keys ÷ 4) consumptions.
 */
const SWEEP_EVERY = 64;
const SWEEP_STEP = 256;
/**
 * Below this many keys nothing is swept: memory is no concern yet, and a key is judged idle by
 * the newest time the store has seen, which a request stamped far ahead (an eval file jumping a
 * day, then back) would make wrong for every other key. Streams with more keys than this get the
 * rule as documented above: times within one window of the newest are exact.
 */
const SWEEP_MIN_KEYS = 4096;

/**
 * Keys with one entry (most of them: a budget per account, each account refunded once) keep it in
 * three parallel typed arrays, at a slot the key maps to, instead of a SlidingLog of their own: a
 * SlidingLog of one entry is eight heap objects (the log, three arrays and their stores, boxed
 * numbers) that a busy server makes by the hundred thousand, each copied by the young
 * generation's collections and marked by the old one's; a slot is 24 bytes outside the heap. The
 * key's second entry moves it to a SlidingLog.
 */
class SoloEntries {
  time = new Float64Array(1024);
  amount = new Float64Array(1024);
  windowMs = new Float64Array(1024);
  private readonly free: number[] = [];
  private used = 0;

  take(time: number, amount: number, windowMs: number): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      if (this.used === this.time.length) this.grow();
      slot = this.used++;
    }
    this.time[slot] = time;
    this.amount[slot] = amount;
    this.windowMs[slot] = windowMs;
    return slot;
  }

  release(slot: number): void {
    this.free.push(slot);
  }

  private grow(): void {
    const size = this.time.length * 2;
    const grown = (from: Float64Array) => {
      const to = new Float64Array(size);
      to.set(from);
      return to;
    };
    this.time = grown(this.time);
    this.amount = grown(this.amount);
    this.windowMs = grown(this.windowMs);
  }
}

/** What a key holds: a slot of SoloEntries (one entry), or its log. */
type Counter = number | SlidingLog;

export class MemoryCounterStore implements SyncCounterStore {
  private readonly logs = new Map<string, Counter>();
  private readonly solo = new SoloEntries();
  private newest = -Infinity;
  private untilSweep = SWEEP_EVERY;
  /** Where the sweep stands: a Map iterator stays valid while entries are added and deleted. */
  private sweeping: Iterator<[string, Counter]> | undefined;
  /** Ids of the releases applied, each with the time after which its entry is behind every window. */
  private readonly released = new Map<string, number>();
  /** Size of `released` at which its aged-out ids are next forgotten. */
  private forgetAt = 1024;

  checkAndConsumeSync(checks: readonly LimitCheck[], atMs: number, replacing?: readonly Release[]): ConsumeOutcome {
    const results: LimitCheckResult[] = [];
    let blocked = false;
    /** What the last check's key holds: with one check, what it records into. */
    let last: Counter | undefined;
    for (const check of checks) {
      const counter = this.logs.get(check.key);
      last = counter;
      let used = this.total(counter, atMs - check.windowMs);
      if (replacing && replacing.length > 0) used = Math.max(0, used - this.replaced(replacing, check, atMs));
      const exceeded = isExceeded(used, check.amount, check.max);
      if (exceeded && check.blocking) blocked = true;
      results.push({ used, exceeded });
    }
    if (!blocked) {
      // One check (the common case): its counter as read above, not looked up again in a map of
      // 100,000s of keys. Several may share a key, and recording one changes what the key holds.
      const [only] = checks;
      if (checks.length === 1 && only !== undefined) this.record(only.key, only.windowMs, atMs, only.amount, last);
      else for (const check of checks) this.record(check.key, check.windowMs, atMs, check.amount, this.logs.get(check.key));
    }
    return { results, consumed: !blocked };
  }

  checkAndConsume(checks: readonly LimitCheck[], atMs: number, replacing?: readonly Release[]): Promise<ConsumeOutcome> {
    return Promise.resolve(this.checkAndConsumeSync(checks, atMs, replacing));
  }

  /**
   * Takes back consumptions: each is cancelled by an entry of the opposite amount at its time, so
   * both leave the window together. An id already released is skipped (exactly once per id).
   */
  releaseSync(releases: readonly Release[]): void {
    for (const release of releases) {
      if (this.released.has(release.id)) continue;
      this.released.set(release.id, release.atMs + 2 * release.windowMs);
      this.record(release.key, release.windowMs, release.atMs, -release.amount, this.logs.get(release.key));
    }
    if (this.released.size >= this.forgetAt) {
      for (const [id, until] of this.released) if (until <= this.newest) this.released.delete(id);
      this.forgetAt = Math.max(1024, 2 * this.released.size);
    }
  }

  release(releases: readonly Release[]): Promise<void> {
    this.releaseSync(releases);
    return Promise.resolve();
  }

  /** Re-applies a release recorded earlier (audit replay), as `releaseSync`. */
  restoreRelease(release: Release): void {
    this.releaseSync([release]);
  }

  /**
   * Re-adds consumption recorded earlier (e.g. from the audit trail after a restart), so a restart
   * never hands an agent a fresh budget.
   */
  restore(key: string, atMs: number, amount: number, windowMs: number): void {
    this.record(key, windowMs, atMs, amount, this.logs.get(key));
  }

  /** What the window of `check` at `atMs` still holds of the consumptions being replaced. */
  private replaced(replacing: readonly Release[], check: LimitCheck, atMs: number): number {
    let sum = 0;
    for (const release of replacing) {
      if (release.key === check.key && release.atMs > atMs - check.windowMs && !this.released.has(release.id)) sum += release.amount;
    }
    return sum;
  }

  /** Number of counter keys held; for tests and metrics. */
  get keyCount(): number {
    return this.logs.size;
  }

  /** Sum of a key's entries with time > since. */
  private total(counter: Counter | undefined, since: number): number {
    if (counter === undefined) return 0;
    if (typeof counter !== 'number') return counter.total(since);
    return (this.solo.time[counter] as number) > since ? (this.solo.amount[counter] as number) : 0;
  }

  /** Adds an entry to a key: `counter` is what the key holds now (made with `windowMs` if nothing). */
  private record(key: string, windowMs: number, atMs: number, amount: number, counter: Counter | undefined): void {
    if (counter === undefined) {
      this.logs.set(key, this.solo.take(atMs, amount, windowMs));
    } else if (typeof counter === 'number') {
      const log = new SlidingLog(Math.max(this.solo.windowMs[counter] as number, windowMs));
      log.add(this.solo.time[counter] as number, this.solo.amount[counter] as number);
      log.add(atMs, amount);
      this.solo.release(counter);
      this.logs.set(key, log);
    } else {
      if (windowMs > counter.windowMs) counter.windowMs = windowMs;
      counter.add(atMs, amount);
    }
    if (atMs > this.newest) this.newest = atMs;
    if (--this.untilSweep <= 0) this.sweep();
  }

  /** True when every entry of the key is two windows behind `now`: it can be forgotten. */
  private idle(counter: Counter, now: number): boolean {
    if (typeof counter !== 'number') return counter.idle(now);
    return (this.solo.time[counter] as number) <= now - 2 * (this.solo.windowMs[counter] as number);
  }

  /** Forgets keys whose every entry has aged out, so distinct keys do not accumulate forever. */
  private sweep(): void {
    this.untilSweep = SWEEP_EVERY;
    if (this.logs.size < SWEEP_MIN_KEYS) return;
    this.sweeping ??= this.logs.entries();
    for (let i = 0; i < SWEEP_STEP; i++) {
      const next = this.sweeping.next();
      if (next.done) {
        this.sweeping = undefined;
        return;
      }
      const [key, counter] = next.value;
      if (this.idle(counter, this.newest)) {
        this.logs.delete(key);
        if (typeof counter === 'number') this.solo.release(counter);
      }
    }
  }
}
