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

/**
 * A consumption taken back: a call that was charged when it was decided and then never ran (its
 * approval was denied, expired or replaced by an approver's edit). A release counts at the time of
 * the consumption it takes back, so both leave the window together.
 */
export interface Release {
  /** Names this release: releasing the same id again changes nothing. No `:` in it. */
  id: string;
  key: string;
  /** When the consumption being taken back was made. */
  atMs: number;
  windowMs: number;
  /** What that consumption added, in integer units. */
  amount: number;
}

export interface CounterStore {
  /**
   * `replacing`: consumptions the checked call takes the place of (the call an approver edited).
   * The windows are judged as if they were released, but nothing is released here: the caller
   * releases them once the replacement is recorded, so until then both count (the safe side).
   */
  checkAndConsume(checks: readonly LimitCheck[], atMs: number, replacing?: readonly Release[]): Promise<ConsumeOutcome>;
  /** Takes back consumptions, atomically and each id once. A store without it never releases (over-counts). */
  release?(releases: readonly Release[]): Promise<void>;
}

/** A store that can answer without a round trip; lets the engine decide synchronously. */
export interface SyncCounterStore extends CounterStore {
  checkAndConsumeSync(checks: readonly LimitCheck[], atMs: number, replacing?: readonly Release[]): ConsumeOutcome;
}

export function isSyncCounterStore(store: CounterStore): store is SyncCounterStore {
  return typeof (store as Partial<SyncCounterStore>).checkAndConsumeSync === 'function';
}

/** The shared rule of every implementation: exceeded when the total including this call passes max. */
export function isExceeded(used: number, amount: number, max: number): boolean {
  return used + amount > max;
}
