import type { Clock } from '../../src/clock.js';

interface Timer {
  at: number;
  task: () => unknown;
}

/** A clock that only moves when told to; its timers fire when it is moved past them. */
export class ManualClock implements Clock {
  private readonly timers = new Set<Timer>();

  constructor(private ms = Date.now()) {}

  now(): number {
    return this.ms;
  }

  setTimer(delayMs: number, task: () => unknown): () => void {
    const timer = { at: this.ms + Math.max(0, delayMs), task };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  }

  /**
   * Moves time forward and runs the timers now due, in time order. The returned promise settles
   * when the work they started has (await it to observe what they did).
   */
  advance(ms: number): Promise<void> {
    this.ms += ms;
    const due = [...this.timers].filter((t) => t.at <= this.ms).sort((a, b) => a.at - b.at);
    const work: unknown[] = [];
    for (const timer of due) {
      this.timers.delete(timer);
      work.push(timer.task());
    }
    return Promise.all(work).then(() => undefined);
  }
}
