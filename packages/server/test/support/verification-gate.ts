import { verifyPassword } from '../../src/services/passwords.js';

/**
 * The server's password check (scrypt), counted, and held on demand: while held, every password
 * check waits until `release()`, so a test can make many login attempts be "in the middle of
 * checking the password" at once and see how many got that far. Pass `gate.verify` as
 * `startServer({ verifyPassword })`.
 */
export class VerificationGate {
  /** Password checks started since the last `hold()`. */
  checks = 0;
  /** Checks waiting for `release()`. */
  waiting = 0;
  private holding = false;
  private readonly waiters: (() => void)[] = [];

  readonly verify = async (password: string, hash: string): Promise<boolean> => {
    this.checks++;
    if (this.holding) {
      this.waiting++;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
      this.waiting--;
    }
    return verifyPassword(password, hash);
  };

  /** From now on password checks wait; the count starts again at 0. */
  hold(): void {
    this.holding = true;
    this.checks = 0;
  }

  release(): void {
    this.holding = false;
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}

/** Polls until `condition` holds (it is expected to within a moment); throws after `timeoutMs`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Tracks how many of a set of promises have settled. */
export function settledCount<T>(promises: Promise<T>[]): () => number {
  let settled = 0;
  for (const promise of promises) void promise.finally(() => settled++).catch(() => undefined);
  return () => settled;
}
