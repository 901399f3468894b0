/** Time source of the server. Injected so tests can move time (approval expiry, sessions) without waiting. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Runs `task` once this clock has moved `delayMs` forward; returns a cancel function. Optional:
   * without it, `setTimer` below uses the process timers. A test clock implements it so that
   * scheduled work (approval timeouts) fires when the test moves time.
   */
  setTimer?(delayMs: number, task: () => unknown): () => void;
}

export const systemClock: Clock = { now: () => Date.now() };

/** setTimeout's largest delay; longer waits are re-armed by whoever scheduled them. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Schedules `task` on the clock's own timers, or on an unref'd process timer. */
export function setTimer(clock: Clock, delayMs: number, task: () => unknown): () => void {
  if (clock.setTimer) return clock.setTimer(delayMs, task);
  const timer = setTimeout(task, Math.max(0, Math.min(delayMs, MAX_TIMER_MS)));
  timer.unref();
  return () => clearTimeout(timer);
}
