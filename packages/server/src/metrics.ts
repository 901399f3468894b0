import type { Decision } from '@airlock/core';

/** Upper bounds (seconds) of the decision latency histogram, here and over OTLP. */
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Receives every recorded decision and refused run as it happens (the OTLP metrics exporter, `telemetry.ts`). */
export interface MetricsSink {
  decision(agent: string, decision: Pick<Decision, 'effect' | 'rule' | 'limits'>, seconds: number | undefined): void;
  refusedRun(agent: string): void;
}

/**
 * Counters and the latency histogram behind `/metrics`, rendered in the Prometheus text format.
 * Kept in memory: Prometheus handles restarts of counters.
 */
export class Metrics {
  private readonly decisions = new Map<string, { labels: Record<string, string>; value: number }>();
  private readonly limitHits = new Map<string, number>();
  /** Attempts to run a call whose decision already ran, by agent. */
  private readonly refusedRuns = new Map<string, number>();
  /** Execution outcomes recorded, by agent, tool and status; outcomes refused, by agent and code. */
  private readonly outcomes = new Map<string, { labels: Record<string, string>; value: number }>();
  private readonly outcomesRefused = new Map<string, { labels: Record<string, string>; value: number }>();
  private readonly bucketCounts = new Array<number>(DURATION_BUCKETS.length).fill(0);
  private durationSum = 0;
  private durationCount = 0;
  private sink: MetricsSink | undefined;

  /** Also hands every recording to `sink` (one at most). */
  forward(sink: MetricsSink): void {
    this.sink = sink;
  }

  /** `seconds` undefined: a decision the server did not make itself (edge mode), left out of the latency histogram. */
  recordDecision(agent: string, decision: Pick<Decision, 'effect' | 'rule' | 'limits'>, seconds: number | undefined): void {
    this.sink?.decision(agent, decision, seconds);
    const rule = decision.rule ?? '';
    const key = `${decision.effect}\u0000${rule}\u0000${agent}`;
    const entry = this.decisions.get(key);
    if (entry) entry.value++;
    else this.decisions.set(key, { labels: { effect: decision.effect, rule, agent }, value: 1 });
    for (const limit of decision.limits) {
      if (limit.exceeded) this.limitHits.set(limit.limit, (this.limitHits.get(limit.limit) ?? 0) + 1);
    }
    if (seconds === undefined) return;
    this.durationSum += seconds;
    this.durationCount++;
    for (let i = 0; i < DURATION_BUCKETS.length; i++) {
      if (seconds <= (DURATION_BUCKETS[i] as number)) this.bucketCounts[i] = (this.bucketCounts[i] as number) + 1;
    }
  }

  /** An attempt to run a call whose decision already ran (refused `already_ran`). */
  recordRefusedRun(agent: string): void {
    this.sink?.refusedRun(agent);
    this.refusedRuns.set(agent, (this.refusedRuns.get(agent) ?? 0) + 1);
  }

  /** An execution outcome recorded (`started`, `succeeded`, `failed`). */
  recordOutcome(agent: string, tool: string, status: string): void {
    increment(this.outcomes, { agent, tool, status });
  }

  /** An execution outcome refused (its error code: `outcome_already_reported` for a call reported twice). */
  recordOutcomeRefused(agent: string, code: string): void {
    increment(this.outcomesRefused, { agent, code });
  }

  render(gauges: { approvalsPending: number; orphans?: OrphanGauges | undefined }): string {
    const lines: string[] = [];
    lines.push('# HELP airlock_decisions_total Decisions returned, by effect, deciding rule and agent.');
    lines.push('# TYPE airlock_decisions_total counter');
    for (const { labels, value } of this.decisions.values()) lines.push(`airlock_decisions_total${formatLabels(labels)} ${value}`);

    lines.push('# HELP airlock_decision_duration_seconds Time from request to durable decision.');
    lines.push('# TYPE airlock_decision_duration_seconds histogram');
    DURATION_BUCKETS.forEach((le, i) => lines.push(`airlock_decision_duration_seconds_bucket{le="${le}"} ${this.bucketCounts[i] ?? 0}`));
    lines.push(`airlock_decision_duration_seconds_bucket{le="+Inf"} ${this.durationCount}`);
    lines.push(`airlock_decision_duration_seconds_sum ${this.durationSum}`);
    lines.push(`airlock_decision_duration_seconds_count ${this.durationCount}`);

    lines.push('# HELP airlock_approvals_pending Approvals waiting for a person.');
    lines.push('# TYPE airlock_approvals_pending gauge');
    lines.push(`airlock_approvals_pending ${gauges.approvalsPending}`);

    lines.push('# HELP airlock_limit_hits_total Decisions in which a limit was exceeded, by limit id.');
    lines.push('# TYPE airlock_limit_hits_total counter');
    for (const [limit, value] of this.limitHits) lines.push(`airlock_limit_hits_total${formatLabels({ limit })} ${value}`);

    lines.push('# HELP airlock_runs_refused_total Attempts to run a call whose decision already ran (already_ran), by agent.');
    lines.push('# TYPE airlock_runs_refused_total counter');
    for (const [agent, value] of this.refusedRuns) lines.push(`airlock_runs_refused_total${formatLabels({ agent })} ${value}`);

    lines.push('# HELP airlock_outcomes_total Execution outcomes recorded, by agent, tool and status (started, succeeded, failed).');
    lines.push('# TYPE airlock_outcomes_total counter');
    for (const { labels, value } of this.outcomes.values()) lines.push(`airlock_outcomes_total${formatLabels(labels)} ${value}`);
    lines.push('# HELP airlock_outcomes_refused_total Execution outcomes refused, by agent and error code (outcome_already_reported: a call reported twice).');
    lines.push('# TYPE airlock_outcomes_refused_total counter');
    for (const { labels, value } of this.outcomesRefused.values()) lines.push(`airlock_outcomes_refused_total${formatLabels(labels)} ${value}`);
    if (gauges.orphans) {
      lines.push('# HELP airlock_outcome_orphans Calls the trail cannot account for, of agents that report outcomes, by kind (capped at the orphans query limit).');
      lines.push('# TYPE airlock_outcome_orphans gauge');
      for (const [kind, value] of Object.entries(gauges.orphans)) lines.push(`airlock_outcome_orphans${formatLabels({ kind })} ${value}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

/** Orphan counts for `/metrics`, by kind (services/outcomes.ts). */
export interface OrphanGauges {
  allowed_unreported: number;
  redeemed_unreported: number;
  started_unfinished: number;
  reported_twice: number;
}

function increment(counters: Map<string, { labels: Record<string, string>; value: number }>, labels: Record<string, string>): void {
  const key = Object.values(labels).join('\u0000');
  const entry = counters.get(key);
  if (entry) entry.value++;
  else counters.set(key, { labels, value: 1 });
}

function formatLabels(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([name, value]) => `${name}="${value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`);
  return `{${parts.join(',')}}`;
}
