import type { ApprovalOutcomeRow } from '../store/store.js';
import { routeOf } from './approval-view.js';

export interface StatsFilter {
  /** Approvals created in [fromMs, toMs). */
  fromMs: number;
  toMs: number;
  rule?: string;
}

/** Milliseconds from request to a decision. */
export interface DecisionTimes {
  count: number;
  mean: number | null;
  median: number | null;
  p90: number | null;
  max: number | null;
}

/** How the approvals one rule (or limit) asked for went. `rule: null`: approvals a risk tier or a policy default asked for. */
export interface RuleApprovalStats {
  rule: string | null;
  requested: number;
  /** Granted by a user, person or bot (redeemed, waiting to be, or expired unused). */
  granted: number;
  denied: number;
  /** Granted or pending with arguments an approver changed. */
  edited: number;
  /** Tier timeouts that fell back to a decision: blocked, or approved by the policy. */
  timedOutBlocked: number;
  timedOutAllowed: number;
  /** Ran out of time without any decision. */
  expired: number;
  pending: number;
  /** Approvals that moved up at least one tier. */
  escalated: number;
  /** granted / (granted + denied); null before any decision. */
  grantRate: number | null;
  /** Time to decision of people only: bots decide at machine speed and would drown it. */
  timeToDecisionMs: DecisionTimes;
  /** Granted or denied by bot accounts (also in `granted`/`denied`), and how long they took. */
  bots: { count: number; median: number | null };
}

export interface ApprovalStats {
  from: string;
  to: string;
  rules: RuleApprovalStats[];
}

/**
 * The progressive-trust input: per rule, how often people granted, denied and edited what it
 * sent them, how often nobody answered in time, and how long decisions took. A rule whose
 * approvals are nearly always granted unchanged and quickly is a candidate for loosening.
 */
export function approvalStats(rows: readonly ApprovalOutcomeRow[], filter: StatsFilter): ApprovalStats {
  const byRule = new Map<string | null, { stats: RuleApprovalStats; times: number[]; botTimes: number[] }>();
  for (const row of rows) {
    let entry = byRule.get(row.rule);
    if (!entry) {
      entry = { stats: emptyStats(row.rule), times: [], botTimes: [] };
      byRule.set(row.rule, entry);
    }
    const { stats, times, botTimes } = entry;
    stats.requested++;
    if (row.edited_args !== null) stats.edited++;
    if (row.tier > routeOf({ route: row.route, approvers: '[]' }).tierIndex) stats.escalated++;
    const byUser = row.resolved_by !== null && row.resolved_by !== 'system';
    switch (row.status) {
      case 'pending':
        stats.pending++;
        break;
      case 'denied':
        stats.denied++;
        break;
      case 'approved':
      case 'redeemed':
        if (byUser) stats.granted++;
        else stats.timedOutAllowed++;
        break;
      case 'expired':
        // Expired after a person granted it (never redeemed), after a timeout fallback, or untouched.
        if (byUser) stats.granted++;
        else if (row.resolved_by === 'system') stats.timedOutBlocked++;
        else stats.expired++;
        break;
    }
    if (byUser && row.resolved_at !== null) (row.resolved_by_kind === 'bot' ? botTimes : times).push(Number(row.resolved_at) - Number(row.created_at));
  }
  const rules = [...byRule.values()].map(({ stats, times, botTimes }) => {
    const decided = stats.granted + stats.denied;
    const bots = summarize(botTimes);
    return {
      ...stats,
      grantRate: decided === 0 ? null : stats.granted / decided,
      timeToDecisionMs: summarize(times),
      bots: { count: bots.count, median: bots.median },
    };
  });
  rules.sort((a, b) => b.requested - a.requested || String(a.rule).localeCompare(String(b.rule)));
  return { from: new Date(filter.fromMs).toISOString(), to: new Date(filter.toMs).toISOString(), rules };
}

function emptyStats(rule: string | null): RuleApprovalStats {
  return {
    rule,
    requested: 0,
    granted: 0,
    denied: 0,
    edited: 0,
    timedOutBlocked: 0,
    timedOutAllowed: 0,
    expired: 0,
    pending: 0,
    escalated: 0,
    grantRate: null,
    timeToDecisionMs: summarize([]),
    bots: { count: 0, median: null },
  };
}

function summarize(times: number[]): DecisionTimes {
  if (times.length === 0) return { count: 0, mean: null, median: null, p90: null, max: null };
  const sorted = [...times].sort((a, b) => a - b);
  // Nearest-rank percentiles: always a time that was actually observed.
  const rank = (p: number): number => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] as number;
  return {
    count: sorted.length,
    mean: Math.round(sorted.reduce((sum, t) => sum + t, 0) / sorted.length),
    median: rank(0.5),
    p90: rank(0.9),
    max: sorted[sorted.length - 1] as number,
  };
}
