import type { Decision, Effect, LimitOutcome } from '@airlock/core';
import type { Clock } from '../clock.js';
import { notFound } from '../errors.js';
import type { AgentRow } from '../store/schema.js';
import type { ApprovalRow } from '../store/schema.js';
import type { CauseCount, DecisionBucket, DecisionFilter, Store, TimeRange, ValueCount } from '../store/store.js';
import { refusalCause, type RefusalCause } from './refusal-cause.js';
import { blockedRateSpike, type AnomalyFlag, type BlockedCount } from './anomaly.js';
import type { ApprovalService } from './approvals.js';
import { approvalView, type ApprovalView } from './approval-view.js';

const HOUR = 3_600_000;
/** The blocked-rate trend of the fleet view: hourly, the last 24 hours of the range. */
const TREND_HOURS = 24;
/** Baseline of the anomaly flag: the 7 days before the last hour. */
const BASELINE_HOURS = 7 * 24;
const TOP = 8;
/** An approval context's history: this many of the agent's latest decisions at most, in at most HISTORY_CHARS of records. */
const HISTORY = 20;
const HISTORY_CHARS = 1024 * 1024;

export type EffectCounts = Record<Effect, number>;

export interface OverviewBucket extends EffectCounts {
  /** Start of the bucket (ISO 8601). */
  start: string;
}

export interface Overview {
  from: string;
  to: string;
  bucketMs: number;
  series: OverviewBucket[];
  totals: EffectCounts;
  topBlockedTools: ValueCount[];
  /**
   * What blocked the calls: a rule or limit (`value` is its id) or, with `value` null, one of the
   * other causes (paused, invalid arguments, unknown tool, no policy, the default, the risk tier,
   * an evaluation error).
   */
  topBlockedRules: CauseValueCount[];
  environments: ({ environment: string } & EffectCounts)[];
  approvals: {
    pending: number;
    /** Approved or denied by a person in the range, and the median time they took. */
    resolved: number;
    medianMs: number | null;
    /** Approved or denied by a bot account (scripts, harnesses): counted apart, not in the median. */
    bots: { resolved: number; medianMs: number | null };
    /** Resolved by the system in the range (a tier timed out with `allow` or `block`): not in the median. */
    automatic: number;
    /** The approval waiting longest, with when its tier times out (escalates or ends). */
    oldestPending: OldestPending | null;
  };
  /** The filter the figures are for. */
  filter: DecisionFilter;
}

export interface CauseValueCount extends ValueCount {
  cause: RefusalCause;
}

export interface OldestPending {
  id: string;
  agent: string;
  tool: string;
  createdAt: string;
  /** When the current tier times out; null: no timeout. */
  deadlineAt: string | null;
  onTimeout: string | null;
  /** The tier an escalation moves to. */
  escalatesTo: string | null;
  expiresAt: string;
}

export interface TrendPoint {
  start: string;
  total: number;
  blocked: number;
}

export interface FleetAgent {
  id: string;
  role: string;
  environment: string;
  /** Time of the newest decision; null if the agent never called. */
  lastSeen: string | null;
  /** Decisions in the requested range. */
  mix: EffectCounts;
  total: number;
  /** Blocked share of `mix`, null without decisions. */
  blockedRate: number | null;
  /** Hourly, the 24 hours up to the end of the range. */
  trend: TrendPoint[];
  flags: AnomalyFlag[];
}

export interface FleetAgentDetail extends FleetAgent {
  series: OverviewBucket[];
  bucketMs: number;
  topTools: ValueCount[];
  topBlockedTools: ValueCount[];
  topRules: ValueCount[];
}

export interface HistoryEntry {
  seq: number;
  id: string;
  at: string;
  tool: string;
  args: Record<string, unknown>;
  effect: Effect;
  rule: string | null;
  reason: string;
  risk: Decision['risk'];
  /** The approval the decision opened, and where it stands. */
  approval?: { id: string; status: string };
}

export interface BudgetView extends LimitOutcome {
  /** What is left in the window once this call is counted (never below 0). */
  remaining: number;
}

export interface ApprovalContext {
  approval: ApprovalView;
  /** The engine's full decision that asked for the approval (from the audit trail). */
  decision: Decision | null;
  /** Limits consulted by that decision, as they stood when the agent asked. */
  budgets: BudgetView[];
  /** The agent's latest decisions, newest first: up to 20, fewer when their records pass 1 MiB in all. */
  history: HistoryEntry[];
  /** Older decisions were left out of `history` for its size. */
  historyCut: boolean;
}

interface DecisionPayload {
  at: string;
  data: { id: string; request: { tool: string; args: Record<string, unknown> }; decision: Decision; approval?: string };
}

function counts(): EffectCounts {
  return { allow: 0, require_approval: 0, block: 0 };
}

function add(target: EffectCounts, effect: string, count: number): void {
  if (effect === 'allow' || effect === 'require_approval' || effect === 'block') target[effect] += count;
}

/** Read-only views over the audit trail for dashboards: series, top lists, the fleet, approval context. */
export class InsightsService {
  constructor(
    private readonly store: Store,
    private readonly approvals: ApprovalService,
    private readonly clock: Clock,
  ) {}

  /** Decisions over time by effect, top blocked tools and rules, the per-environment split, approvals. */
  async overview(range: TimeRange, bucketMs: number, filter: DecisionFilter = {}): Promise<Overview> {
    const now = this.clock.now();
    const [buckets, tools, causes, environments, pending, resolution, oldest] = await Promise.all([
      this.store.decisionBuckets(range, bucketMs, filter),
      this.store.topDecisionValues(range, 'tool', { ...filter, effect: 'block' }, TOP),
      this.store.blockedCauses(range, filter),
      this.store.decisionsByEnvironment(range, filter),
      this.store.countPendingApprovals(now, filter),
      this.store.approvalResolution(range, filter),
      this.store.oldestPendingApproval(now, filter),
    ]);
    const series = seriesOf(range, bucketMs, buckets);
    const totals = counts();
    for (const bucket of series) for (const effect of ['allow', 'require_approval', 'block'] as const) totals[effect] += bucket[effect];
    const byEnvironment = new Map<string, EffectCounts>();
    for (const row of environments) {
      let entry = byEnvironment.get(row.environment);
      if (!entry) byEnvironment.set(row.environment, (entry = counts()));
      add(entry, row.effect, row.count);
    }
    return {
      from: iso(range.fromMs),
      to: iso(range.toMs),
      bucketMs,
      series,
      totals,
      topBlockedTools: tools,
      topBlockedRules: topCauses(causes, TOP),
      environments: [...byEnvironment].map(([environment, c]) => ({ environment, ...c })),
      approvals: { pending, ...resolution, oldestPending: oldest ? oldestPending(oldest) : null },
      filter,
    };
  }

  /** Every registered agent with its decision mix in the range, blocked-rate trend and anomaly flags. */
  async fleet(range: TimeRange, filter: DecisionFilter = {}): Promise<FleetAgent[]> {
    const agents = (await this.store.listAgents()).filter(
      (agent) =>
        (filter.agent === undefined || agent.id === filter.agent) &&
        (filter.role === undefined || agent.role === filter.role) &&
        (filter.environment === undefined || agent.environment === filter.environment),
    );
    const [mix, hourly] = await Promise.all([
      this.store.decisionBuckets(range, range.toMs - range.fromMs, { ...filter, byAgent: true }),
      this.store.decisionBuckets(hourlyRange(range.toMs), HOUR, { ...filter, byAgent: true }),
    ]);
    const lastSeen = await Promise.all(agents.map((agent) => this.store.lastDecisionAt(agent.id)));
    return agents.map((agent, i) => fleetAgent(agent, lastSeen[i], mix.filter((b) => b.agent === agent.id), hourly.filter((b) => b.agent === agent.id), range.toMs));
  }

  async agent(id: string, range: TimeRange, bucketMs: number): Promise<FleetAgentDetail> {
    const agent = await this.store.getAgent(id);
    if (!agent) throw notFound(`agent '${id}'`);
    const [mix, hourly, lastSeen, buckets, topTools, topBlockedTools, topRules] = await Promise.all([
      this.store.decisionBuckets(range, range.toMs - range.fromMs, { agent: id }),
      this.store.decisionBuckets(hourlyRange(range.toMs), HOUR, { agent: id }),
      this.store.lastDecisionAt(id),
      this.store.decisionBuckets(range, bucketMs, { agent: id }),
      this.store.topDecisionValues(range, 'tool', { agent: id }, TOP),
      this.store.topDecisionValues(range, 'tool', { agent: id, effect: 'block' }, TOP),
      this.store.topDecisionValues(range, 'rule', { agent: id }, TOP),
    ]);
    return {
      ...fleetAgent(agent, lastSeen, mix, hourly, range.toMs),
      series: seriesOf(range, bucketMs, buckets),
      bucketMs,
      topTools,
      topBlockedTools,
      topRules,
    };
  }

  /** What an approver needs beside the request: the full decision, the budgets it consulted, the agent's history. */
  async approvalContext(id: string, viewer: { user: string }): Promise<ApprovalContext> {
    const approval = await this.approvals.get(id, viewer);
    const createdMs = Date.parse(approval.createdAt);
    // The decision and its approval share one clock reading: found by time and id (findDecisions),
    // then its one record read. The history is bounded in size: an agent's arguments may be large.
    const [found, recentPage] = await Promise.all([
      this.store.findDecisions([{ id: approval.decisionId, at: createdMs }]),
      this.store.searchAudit({ agent: approval.agent, type: 'decision' }, { limit: HISTORY, scanLimit: Number.MAX_SAFE_INTEGER, maxChars: HISTORY_CHARS }),
    ]);
    const seq = found.find((ref) => ref.id === approval.decisionId && ref.agent === approval.agent)?.seq;
    const [record] = seq === undefined ? [] : await this.store.auditRecords([seq]);
    const decision = record ? payloadOf(record).data.decision : null;
    const recent = recentPage.rows;
    const payloads = recent.map(payloadOf);
    const statuses = new Map((await this.store.approvalStatuses(payloads.flatMap((p) => p.data.approval ?? []))).map((row) => [row.id, row.status]));
    return {
      approval,
      decision,
      budgets: (decision?.limits ?? []).map((limit) => ({ ...limit, remaining: Math.max(0, limit.max - limit.used - (limit.consumed ? limit.adding : 0)) })),
      historyCut: recentPage.truncated,
      history: recent.map((row, i) => {
        const payload = payloads[i] as DecisionPayload;
        const opened = payload.data.approval;
        const status = opened === undefined ? undefined : statuses.get(opened);
        return {
          seq: Number(row.seq),
          id: payload.data.id,
          at: payload.at,
          tool: payload.data.request.tool,
          args: payload.data.request.args,
          effect: payload.data.decision.effect,
          rule: payload.data.decision.rule,
          reason: payload.data.decision.reason,
          risk: payload.data.decision.risk,
          ...(opened !== undefined && status !== undefined ? { approval: { id: opened, status } } : {}),
        };
      }),
    };
  }
}

/** Blocked counts by rule or limit id, and by cause for the rest; the largest first. */
export function topCauses(rows: readonly CauseCount[], top: number): CauseValueCount[] {
  const merged = new Map<string, CauseValueCount>();
  for (const row of rows) {
    const cause = refusalCause(row.decidedBy, row.code);
    // A rule or a limit is named by its id; every other cause is one entry.
    const value = cause === 'rule' || cause === 'limit' ? row.rule : null;
    const key = `${cause}\u0000${value ?? ''}`;
    const entry = merged.get(key);
    if (entry) entry.count += row.count;
    else merged.set(key, { value, cause, count: row.count });
  }
  return [...merged.values()].sort((a, b) => b.count - a.count || (a.value ?? a.cause).localeCompare(b.value ?? b.cause)).slice(0, top);
}

function oldestPending(row: ApprovalRow): OldestPending {
  const view = approvalView(row);
  return { id: view.id, agent: view.agent, tool: view.tool, createdAt: view.createdAt, deadlineAt: view.deadlineAt, onTimeout: view.onTimeout, escalatesTo: view.escalatesTo, expiresAt: view.expiresAt };
}

function payloadOf(row: { payload: string }): DecisionPayload {
  return JSON.parse(row.payload) as DecisionPayload;
}

/** The 7 days and 1 hour before `toMs`, in hours: bucket BASELINE_HOURS is the last hour. */
function hourlyRange(toMs: number): TimeRange {
  return { fromMs: toMs - (BASELINE_HOURS + 1) * HOUR, toMs };
}

function fleetAgent(agent: AgentRow, lastSeen: number | undefined, mixBuckets: DecisionBucket[], hourly: DecisionBucket[], toMs: number): FleetAgent {
  const mix = counts();
  for (const row of mixBuckets) add(mix, row.effect, row.count);
  const total = mix.allow + mix.require_approval + mix.block;
  const perHour: BlockedCount[] = Array.from({ length: BASELINE_HOURS + 1 }, () => ({ total: 0, blocked: 0 }));
  for (const row of hourly) {
    const hour = perHour[row.bucket];
    if (!hour) continue;
    hour.total += row.count;
    if (row.effect === 'block') hour.blocked += row.count;
  }
  const baseline = perHour.slice(0, BASELINE_HOURS).reduce((sum, h) => ({ total: sum.total + h.total, blocked: sum.blocked + h.blocked }), { total: 0, blocked: 0 });
  const flag = blockedRateSpike(perHour[BASELINE_HOURS] as BlockedCount, baseline);
  const trendStart = toMs - TREND_HOURS * HOUR;
  return {
    id: agent.id,
    role: agent.role,
    environment: agent.environment,
    lastSeen: lastSeen === undefined ? null : iso(lastSeen),
    mix,
    total,
    blockedRate: total === 0 ? null : mix.block / total,
    trend: perHour.slice(BASELINE_HOURS + 1 - TREND_HOURS).map((h, i) => ({ start: iso(trendStart + i * HOUR), ...h })),
    flags: flag ? [flag] : [],
  };
}

/** Every bucket of the range, zero-filled. */
function seriesOf(range: TimeRange, bucketMs: number, rows: DecisionBucket[]): OverviewBucket[] {
  const length = Math.ceil((range.toMs - range.fromMs) / bucketMs);
  const series: OverviewBucket[] = Array.from({ length }, (_, i) => ({ start: iso(range.fromMs + i * bucketMs), ...counts() }));
  for (const row of rows) {
    const bucket = series[row.bucket];
    if (bucket) add(bucket, row.effect, row.count);
  }
  return series;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
