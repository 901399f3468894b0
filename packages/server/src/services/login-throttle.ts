/** One rolling window of login attempts: at most `max` attempts whose time is within the window. */
export interface LoginWindow {
  key: string;
  max: number;
}

/** A counted attempt (`ticket` gives it back), or a refusal with the seconds until one is allowed. */
export type LoginReservation = { ok: true; ticket: string } | { ok: false; retryAfter: number };

/**
 * Login attempts counted BEFORE the password is checked (reserve, then verify), so concurrent
 * attempts cannot all slip in before the first failure is recorded: of N attempts made at once, at
 * most `max` per window are admitted, whatever N is. A failed attempt keeps its place in every
 * window until it ages out; a successful one gives its place back.
 */
export interface LoginThrottle {
  /**
   * Counts one attempt in every window, or in none when any of them is full (then `retryAfter`
   * says when the earliest full window has room again). Atomic across all callers of the throttle.
   * Rejects when the shared state does not answer: the caller must refuse the login (fail closed).
   */
  reserve(windows: readonly LoginWindow[], windowMs: number, atMs: number): Promise<LoginReservation>;
  /**
   * The attempt with `ticket` logged in: it leaves `windows`, and the windows named by `clear`
   * are emptied (the attempts of that person at that address are forgiven).
   */
  succeed(ticket: string, windows: readonly string[], clear: readonly string[]): Promise<void>;
}

interface Attempt {
  at: number;
  ticket: string;
}

/**
 * The throttle of a single instance, in memory. `reserve` does all its work synchronously, before
 * its promise is returned, so attempts are counted in the order they reach the server.
 */
export class MemoryLoginThrottle implements LoginThrottle {
  private readonly attempts = new Map<string, Attempt[]>();
  private nextTicket = 0;
  /** Forget aged-out keys when the map grows past this (bounds memory under a username spray). */
  private pruneAt = 10_000;

  reserve(windows: readonly LoginWindow[], windowMs: number, at: number): Promise<LoginReservation> {
    let waitMs = 0;
    const recent = windows.map(({ key, max }) => {
      const kept = this.recent(key, at, windowMs);
      // Full: room again when the attempt `max` places from the newest ages out.
      if (kept.length >= max) waitMs = Math.max(waitMs, (kept[kept.length - max]?.at ?? at) + windowMs - at);
      return kept;
    });
    if (waitMs > 0) return Promise.resolve({ ok: false, retryAfter: Math.max(1, Math.ceil(waitMs / 1000)) });
    const ticket = `t${++this.nextTicket}`;
    windows.forEach(({ key }, i) => {
      const kept = recent[i] as Attempt[];
      kept.push({ at, ticket });
      this.attempts.set(key, kept);
    });
    if (this.attempts.size > this.pruneAt) this.prune(at, windowMs);
    return Promise.resolve({ ok: true, ticket });
  }

  succeed(ticket: string, windows: readonly string[], clear: readonly string[]): Promise<void> {
    for (const key of windows) {
      const kept = this.attempts.get(key)?.filter((attempt) => attempt.ticket !== ticket);
      if (kept && kept.length > 0) this.attempts.set(key, kept);
      else this.attempts.delete(key);
    }
    for (const key of clear) this.attempts.delete(key);
    return Promise.resolve();
  }

  /**
   * Attempts still in the window, oldest first. Attempts stamped later than now count too (a clock
   * stepping back never re-opens a window).
   */
  private recent(key: string, at: number, windowMs: number): Attempt[] {
    const since = at - windowMs;
    return (this.attempts.get(key) ?? []).filter((attempt) => attempt.at > since).sort((a, b) => a.at - b.at);
  }

  private prune(at: number, windowMs: number): void {
    for (const key of [...this.attempts.keys()]) {
      if (this.recent(key, at, windowMs).length === 0) this.attempts.delete(key);
    }
    // Everything left is recent: scan again only once the map has doubled.
    this.pruneAt = Math.max(10_000, 2 * this.attempts.size);
  }
}
