import { MAX_TIMER_MS, setTimer, type Clock } from '../clock.js';

/** What the scheduler drives: apply everything due, and say when the next thing falls due. */
export interface DueWork {
  sweep(): Promise<unknown>;
  nextDue(): Promise<number | undefined>;
}

/** After a failed sweep (e.g. the store is unavailable), the next try. */
const RETRY_MS = 5_000;

/**
 * Fires approval timeouts and expiries on time: one timer on the injected clock, armed for the
 * earliest due time in the store and re-armed after every run. Deadlines live in the database, so
 * after a restart `start` applies what fell due meanwhile and arms the timer again.
 */
export class ApprovalScheduler {
  private cancel: (() => void) | undefined;
  private armedAt: number | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private onError: (error: unknown) => void = () => undefined;

  constructor(
    private readonly clock: Clock,
    private readonly work: DueWork,
  ) {}

  async start(onError: (error: unknown) => void): Promise<void> {
    this.onError = onError;
    this.stopped = false;
    await this.run();
  }

  /** Something falls due at `atMs` (a new approval, an escalation): fire no later than that. */
  due(atMs: number): void {
    if (this.stopped || !Number.isFinite(atMs)) return;
    if (this.armedAt === undefined || atMs < this.armedAt) this.arm(atMs);
  }

  /** No more runs; resolves once a run in progress has finished (before the store closes). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.disarm();
    await this.running;
  }

  private arm(atMs: number): void {
    this.disarm();
    const delay = atMs - this.clock.now();
    if (delay <= 0) {
      void this.run();
      return;
    }
    this.armedAt = atMs;
    // Beyond what a timer can wait, wake at the limit and re-arm from the store.
    this.cancel = setTimer(this.clock, Math.min(delay, MAX_TIMER_MS), () => this.run());
  }

  private disarm(): void {
    this.cancel?.();
    this.cancel = undefined;
    this.armedAt = undefined;
  }

  /** One sweep at a time; a request to run during a sweep runs another right after it. */
  private run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.disarm();
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.work.sweep();
          const next = await this.work.nextDue();
          // A sweep applies everything due; anything still due after it is retried later, not in a loop.
          const now = this.clock.now();
          if (next !== undefined && !this.stopped) this.due(next > now ? next : now + RETRY_MS);
        } catch (error) {
          this.onError(error);
          if (!this.stopped) this.due(this.clock.now() + RETRY_MS);
          this.again = false;
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }
}
