/**
 * The stateful layer behind rate, budget and blast-radius limits.
 *
 * `checkAndConsume` is one atomic operation over all the checks of one call: it reads every
 * window, decides which are exceeded, and consumes all of them only if no blocking check is
 * exceeded (a call that ends blocked consumes nothing). Amounts are integers (the engine scales
 * money to micro-units) so sums are exact in every implementation.
 */
/** Budgets are summed in micro-units so that $33.33 + $33.33 + $33.34 is exactly $100. */
export const BUDGET_SCALE = 1_000_000;

export interface LimitCheck {
  /** Fully qualified counter key (limit id and key values). */
  key: string;
  windowMs: number;
  /** Largest allowed total in any window, in integer units. */
  max: number;
  /** What this call adds, in integer units. */
  amount: number;
  /** Exceeding this check blocks the call. */
  blocking: boolean;
}

export interface LimitCheckResult {
  /** Window total before this call. */
  used: number;
  exceeded: boolean;
}

export interface ConsumeOutcome {
  results: LimitCheckResult[];
  consumed: boolean;
}

export interface CounterStore {
  checkAndConsume(checks: readonly LimitCheck[], atMs: number): Promise<ConsumeOutcome>;
}

/** A store that can answer without a round trip; lets the engine decide synchronously. */
export interface SyncCounterStore extends CounterStore {
  checkAndConsumeSync(checks: readonly LimitCheck[], atMs: number): ConsumeOutcome;
}

export function isSyncCounterStore(store: CounterStore): store is SyncCounterStore {
  return typeof (store as Partial<SyncCounterStore>).checkAndConsumeSync === 'function';
}

/** The shared rule of every implementation: exceeded when the total including this call passes max. */
export function isExceeded(used: number, amount: number, max: number): boolean {
  return used + amount > max;
}
