/** Decisions of one agent in a window, and how many of them were blocked. */
export interface BlockedCount {
  total: number;
  blocked: number;
}

export interface AnomalyFlag {
  code: 'blocked_rate_spike';
  message: string;
  /** Blocked share of the agent's decisions in the last hour. */
  recentRate: number;
  /** The agent's own blocked share before that hour (smoothed, see BLOCKED_SPIKE). */
  baselineRate: number;
}

/**
 * The blocked-rate spike rule (documented in packages/server/README.md):
 * the last hour has at least `minRecent` decisions, and its blocked share is at least
 * `minIncrease` (absolute) above the agent's baseline and at least `minRatio` times it.
 * The baseline is the agent's blocked share over the 7 days before that hour, smoothed towards
 * `priorRate` with the weight of `priorCalls` decisions, so a new agent has a baseline of 10 %.
 */
export const BLOCKED_SPIKE = { minRecent: 10, minIncrease: 0.3, minRatio: 2, priorRate: 0.1, priorCalls: 10 } as const;

export function blockedRateSpike(recent: BlockedCount, baseline: BlockedCount): AnomalyFlag | undefined {
  const { minRecent, minIncrease, minRatio, priorRate, priorCalls } = BLOCKED_SPIKE;
  if (recent.total < minRecent) return undefined;
  const recentRate = recent.blocked / recent.total;
  const baselineRate = (baseline.blocked + priorRate * priorCalls) / (baseline.total + priorCalls);
  if (recentRate < baselineRate + minIncrease || recentRate < baselineRate * minRatio) return undefined;
  return {
    code: 'blocked_rate_spike',
    message: `${percent(recentRate)} of the last hour's ${recent.total} decisions were blocked; baseline ${percent(baselineRate)}`,
    recentRate,
    baselineRate,
  };
}

function percent(rate: number): string {
  return `${Math.round(rate * 100)} %`;
}
