import type { Clock } from '../clock.js';
import type { Metrics, OrphanGauges } from '../metrics.js';
import type { AuditEntry, AuditWriter } from '../audit/writer.js';
import type { ErrorCode } from '../errors.js';
import type { OutcomeRow } from '../store/schema.js';
import type { DecisionRef, Store } from '../store/store.js';
import type { AgentIdentity } from './agents.js';
import type { EventBus } from './events.js';
import type { PolicyService } from './policies.js';

/** How long a call may run before it counts as unreported, by default. */
export const ORPHAN_GRACE_MS = 5 * 60_000;
/** Most outcomes in one report. */
export const MAX_OUTCOME_BATCH = 500;
/** Longest error message kept; longer ones are cut here (the SDK cuts them first). */
export const MAX_ERROR_MESSAGE = 1000;
/** Largest result text recorded for a tool whose policy opts in (`recordResult: true`). */
export const MAX_RECORDED_RESULT = 4096;

/** What an agent reports about one governed call after its decision (POST /v1/outcomes). */
export interface OutcomeReport {
  decisionId: string;
  /** The decision's `at`, as the decide answered it: the decision is found by it. */
  decidedAt: string;
  status: 'started' | 'succeeded' | 'failed';
  /** When it happened, epoch ms by the agent's clock (kept within the decision's time and now). */
  at: number;
  durationMs?: number | undefined;
  error?: { class: string; message: string } | undefined;
  /** The result's JSON text: its SHA-256 and size, and the text itself (cut) when the policy records results. */
  result?: { digest: string; size: number; content?: string | undefined; truncated?: boolean | undefined } | undefined;
}

export type OutcomeRefusal = 'unknown_decision' | 'decision_of_another_agent' | 'decision_not_runnable' | 'outcome_already_reported';

export interface OutcomeVerdict {
  decisionId: string;
  /** True when recorded now; false when refused (`error`). */
  recorded: boolean;
  error?: { code: OutcomeRefusal & ErrorCode; message: string };
}

/** A decision's execution as the API shows it (the approval detail's "ran 14:03, succeeded in 210 ms"). */
export interface OutcomeView {
  decisionId: string;
  agent: string;
  tool: string;
  approvalId: string | null;
  status: string;
  decidedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  error: { class: string | null; message: string | null } | null;
  result: { digest: string; size: number } | null;
  reportedAt: string;
  /** Outcomes refused for this decision because one was already recorded. */
  duplicates: number;
}

export interface OrphanDecision {
  decisionId: string;
  agent: string;
  tool: string;
  decidedAt: string;
  /** The decision's audit record (null if it is not found). */
  seq: number | null;
}

export interface OrphanRedemption {
  approvalId: string;
  decisionId: string;
  agent: string;
  tool: string;
  redeemedAt: string;
}

/** Calls whose execution the trail cannot account for, per reporting agent (docs/outcomes.md). */
export interface OrphansView {
  /** Only agents that have reported an outcome are judged; `since`: their first reported decision. */
  agents: { agent: string; since: string }[];
  /** Allowed calls never reported (older than the grace period), newest first. */
  allowedUnreported: OrphanDecision[];
  /** Approvals redeemed whose call never reported finishing. */
  redeemedUnreported: OrphanRedemption[];
  /** Allowed calls reported started that never reported finishing. */
  startedUnfinished: OrphanDecision[];
  /** Calls reported more than once (the later reports refused), with their decision's audit record. */
  reportedTwice: (OutcomeView & { seq: number | null })[];
  /** The server's time the view was taken at: `nextDueAt` minus this is how long the view stays current. */
  checkedAt: string;
  /**
   * The first instant at which a call not listed now is listed, if it has still not reported
   * finishing by then (its decision, redemption or start plus the grace period, plus 1 ms); null
   * when no call waits. A view that must stay current looks again then.
   */
  nextDueAt: string | null;
}

export interface FailureRate {
  agent: string;
  tool: string;
  succeeded: number;
  failed: number;
  /** failed / (succeeded + failed). */
  rate: number;
}

/**
 * Execution outcomes: what ran after a decision. Each outcome is checked against its decision
 * record (the reporting agent's, a decision that allowed a run) and recorded as `call.started`,
 * `call.executed` or `call.failed` in the audit chain, linked to the decision and its approval,
 * through the audit writer's group commit: a batch of outcomes is one append among the decisions,
 * never a transaction of its own. One outcome per decision: a second is refused.
 */
export class OutcomeService {
  /** Decisions whose outcomes are being recorded in this process: a concurrent report for one waits. */
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: Store,
    private readonly writer: AuditWriter,
    private readonly policies: PolicyService,
    private readonly events: EventBus,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
  ) {}

  async record(identity: AgentIdentity, reports: readonly OutcomeReport[]): Promise<{ recorded: number; outcomes: OutcomeVerdict[] }> {
    const ids = [...new Set(reports.map((report) => report.decisionId))];
    // Wait for every report of these decisions being recorded now, then take them all at once
    // (synchronously after the check: no other request can slip in between).
    for (;;) {
      const busy = ids.flatMap((id) => this.inflight.get(id) ?? []);
      if (busy.length === 0) break;
      await Promise.allSettled(busy);
    }
    const done = this.recordTaken(identity, reports);
    const settled = done.catch(() => undefined);
    for (const id of ids) this.inflight.set(id, settled);
    try {
      return await done;
    } finally {
      for (const id of ids) if (this.inflight.get(id) === settled) this.inflight.delete(id);
    }
  }

  private async recordTaken(identity: AgentIdentity, reports: readonly OutcomeReport[]): Promise<{ recorded: number; outcomes: OutcomeVerdict[] }> {
    const refs = reports.flatMap((report) => {
      const at = Date.parse(report.decidedAt);
      return Number.isFinite(at) ? [{ id: report.decisionId, at }] : [];
    });
    const [decisions, existing] = await Promise.all([this.store.findDecisions(refs), this.store.getOutcomes(reports.map((report) => report.decisionId))]);
    const decisionOf = new Map(decisions.map((decision) => [decision.id, decision]));
    const outcomes = new Map<string, OutcomeRow>(existing.map((row) => [row.decision_id, row]));
    const redeemed = new Set(
      (await this.store.approvalStatuses(decisions.flatMap((decision) => decision.approvalId ?? []))).filter((row) => row.status === 'redeemed').map((row) => row.id),
    );
    const now = this.clock.now();
    const entries: AuditEntry[] = [];
    const verdicts: OutcomeVerdict[] = [];
    const duplicates: string[] = [];
    /** The entries appended, with the verdict each answers. */
    const appended: { verdict: number; report: OutcomeReport; previous: boolean }[] = [];
    const refuse = (report: OutcomeReport, code: OutcomeRefusal, message: string): void => {
      verdicts.push({ decisionId: report.decisionId, recorded: false, error: { code, message } });
      this.metrics.recordOutcomeRefused(identity.agent, code);
    };
    for (const report of reports) {
      const decision = decisionOf.get(report.decisionId);
      if (!decision || decision.at !== Date.parse(report.decidedAt)) {
        refuse(report, 'unknown_decision', `no decision ${report.decisionId} at ${report.decidedAt}`);
        continue;
      }
      if (decision.agent !== identity.agent) {
        refuse(report, 'decision_of_another_agent', `decision ${report.decisionId} was made for another agent`);
        continue;
      }
      const runnable = decision.effect === 'allow' || (decision.effect === 'require_approval' && decision.approvalId !== null && redeemed.has(decision.approvalId));
      if (!runnable) {
        refuse(report, 'decision_not_runnable', `decision ${report.decisionId} (${decision.effect}) did not allow the call to run`);
        continue;
      }
      const previous = outcomes.get(report.decisionId);
      if (previous && (previous.status !== 'started' || report.status === 'started')) {
        duplicates.push(report.decisionId);
        refuse(report, 'outcome_already_reported', `decision ${report.decisionId} already has its outcome (${previous.status})`);
        continue;
      }
      const entry = this.entry(identity, decision, report, previous, now);
      outcomes.set(report.decisionId, entry.row);
      entries.push(entry.audit);
      appended.push({ verdict: verdicts.length, report, previous: entry.previous });
      verdicts.push({ decisionId: report.decisionId, recorded: true });
    }
    // Each outcome claims its row in the transaction that appends its record: one that another
    // instance recorded first (committed before this append took the chain) is dropped there,
    // with no record, and refused here like any second outcome.
    const sealed = entries.length > 0 ? await this.writer.append(entries) : [];
    const recorded: string[] = [];
    entries.forEach((entry, i) => {
      const { verdict, report, previous } = appended[i] as (typeof appended)[number];
      if (sealed[i]?.dropped === true) {
        duplicates.push(report.decisionId);
        verdicts[verdict] = {
          decisionId: report.decisionId,
          recorded: false,
          error: { code: 'outcome_already_reported', message: `decision ${report.decisionId} already has its outcome${previous ? ' (finished)' : ''}` },
        };
        this.metrics.recordOutcomeRefused(identity.agent, 'outcome_already_reported');
        return;
      }
      recorded.push(report.decisionId);
      const { status } = entry.record.data as { status: string };
      this.metrics.recordOutcome(identity.agent, entry.record.tool ?? '', status);
    });
    if (duplicates.length > 0) await this.store.recordDuplicateOutcomes(duplicates);
    // The dashboard's agent page looks again at the agent's timeline and unaccounted calls.
    const changed = [...recorded, ...duplicates];
    if (changed.length > 0 && this.events.hasSubscribers('outcome')) this.events.publish({ type: 'outcome', data: { agent: identity.agent, decisions: changed } });
    return { recorded: recorded.length, outcomes: verdicts };
  }

  /** The audit record of one outcome and the row it writes (inserted, or a started one finished). */
  private entry(identity: AgentIdentity, decision: DecisionRef, report: OutcomeReport, previous: OutcomeRow | undefined, now: number): { audit: AuditEntry; row: OutcomeRow; previous: boolean } {
    // The agent's clock is trusted only between the decision and now.
    const at = Math.min(now, Math.max(report.at, decision.at));
    const final = report.status !== 'started';
    const error = report.status === 'failed' && report.error ? { class: report.error.class, message: report.error.message.slice(0, MAX_ERROR_MESSAGE) } : undefined;
    const result = final && report.result ? { digest: report.result.digest, size: report.result.size } : undefined;
    const content = final && report.result?.content !== undefined && this.recordsResult(identity.role, decision.tool) ? report.result.content.slice(0, MAX_RECORDED_RESULT) : undefined;
    const row: OutcomeRow = {
      decision_id: decision.id,
      agent: decision.agent,
      tool: decision.tool,
      approval_id: decision.approvalId,
      decision_effect: decision.effect,
      decided_at: decision.at,
      status: report.status,
      started_at: previous?.started_at ?? (final ? (report.durationMs === undefined ? null : Math.round(at - report.durationMs)) : at),
      finished_at: final ? at : null,
      duration_ms: final ? (report.durationMs ?? null) : null,
      error_class: error?.class ?? null,
      error_message: error?.message ?? null,
      result_digest: result?.digest ?? null,
      result_size: result?.size ?? null,
      reported_at: now,
      duplicates: 0,
    };
    const type = report.status === 'started' ? 'call.started' : report.status === 'succeeded' ? 'call.executed' : 'call.failed';
    const audit: AuditEntry = {
      record: {
        type,
        at: now,
        actor: `agent:${identity.agent}`,
        agent: decision.agent,
        tool: decision.tool,
        rule: decision.rule,
        data: {
          decision: decision.id,
          approval: decision.approvalId,
          status: report.status,
          at: new Date(at).toISOString(),
          ...(report.durationMs === undefined || !final ? {} : { durationMs: report.durationMs }),
          ...(error ? { error } : {}),
          ...(result ? { result: content === undefined ? result : { ...result, content, truncated: content.length < (report.result?.content?.length ?? 0) || report.result?.truncated === true } } : {}),
        },
      },
      // The claim: inserted only if the decision has no outcome, finished only if it is still started.
      writes: [],
      claim:
        previous
          ? {
              kind: 'outcome.finish',
              decisionId: decision.id,
              patch: {
                status: row.status,
                finished_at: row.finished_at,
                duration_ms: row.duration_ms,
                error_class: row.error_class,
                error_message: row.error_message,
                result_digest: row.result_digest,
                result_size: row.result_size,
                reported_at: now,
              },
            }
          : { kind: 'outcome.insert', row },
    };
    return { audit, row: previous ? { ...row, started_at: previous.started_at } : row, previous: previous !== undefined };
  }

  /** Whether the active policy records this tool's results for this role (`recordResult: true`). */
  private recordsResult(role: string, tool: string): boolean {
    return this.policies.active()?.recordResults.has(`${role}\u0000${tool}`) ?? false;
  }

  /** The outcome of one decision, or of the call one approval allowed; undefined when none was reported. */
  async outcomeOf(filter: { decisionId?: string; approvalId?: string }): Promise<OutcomeView | undefined> {
    const row = await this.store.outcomeOf(filter);
    return row && outcomeView(row);
  }

  /**
   * Orphans: of the agents that report outcomes (since their first), allowed calls and redeemed
   * approvals older than `graceMs` with no outcome, calls started and never finished, and calls
   * reported twice.
   */
  async orphans(filter: { agent?: string | undefined; graceMs: number; limit: number }): Promise<OrphansView> {
    const now = this.clock.now();
    const cutoff = now - filter.graceMs;
    const agents = await this.store.reportingAgents(filter.agent);
    const view: OrphansView = {
      agents: [],
      allowedUnreported: [],
      redeemedUnreported: [],
      startedUnfinished: [],
      reportedTwice: [],
      checkedAt: new Date(now).toISOString(),
      nextDueAt: null,
    };
    let nextDue = Number.POSITIVE_INFINITY;
    for (const { agent, since } of agents) {
      view.agents.push({ agent, since: new Date(since).toISOString() });
      const [allows, redemptions, unfinished, pending] = await Promise.all([
        this.store.unreportedAllows(agent, since, cutoff, filter.limit),
        this.store.unreportedRedemptions(agent, since, cutoff, filter.limit),
        this.store.unfinishedOutcomes(agent, cutoff, filter.limit),
        // What the three above do not list yet: the calls still inside the grace period.
        this.store.earliestPendingCall(agent, Math.max(since, cutoff)),
      ]);
      // Listed once strictly older than the grace period: 1 ms after it ends.
      if (pending !== undefined) nextDue = Math.min(nextDue, pending + filter.graceMs + 1);
      view.allowedUnreported.push(...allows.map((ref) => ({ decisionId: ref.id, agent, tool: ref.tool, decidedAt: new Date(ref.at).toISOString(), seq: ref.seq ?? null })));
      view.redeemedUnreported.push(
        ...redemptions.map((row) => ({ approvalId: row.id, decisionId: row.decision_id, agent, tool: row.tool, redeemedAt: new Date(Number(row.redeemed_at)).toISOString() })),
      );
      const seqs = await this.decisionSeqs(unfinished);
      view.startedUnfinished.push(
        ...unfinished.map((row) => ({ decisionId: row.decision_id, agent, tool: row.tool, decidedAt: new Date(row.decided_at).toISOString(), seq: seqs.get(row.decision_id) ?? null })),
      );
    }
    const twice = await this.store.reportedTwice(filter.agent, filter.limit);
    const seqs = await this.decisionSeqs(twice);
    view.reportedTwice = twice.map((row) => ({ ...outcomeView(row), seq: seqs.get(row.decision_id) ?? null }));
    if (Number.isFinite(nextDue)) view.nextDueAt = new Date(nextDue).toISOString();
    return view;
  }

  /** The audit records (sequence numbers) of these outcomes' decisions, so the console can link to them. */
  private async decisionSeqs(rows: readonly OutcomeRow[]): Promise<Map<string, number>> {
    const found = await this.store.findDecisions(rows.map((row) => ({ id: row.decision_id, at: row.decided_at })));
    return new Map(found.flatMap((ref) => (ref.seq === undefined ? [] : [[ref.id, ref.seq] as const])));
  }

  /** Orphan counts for `/metrics` (default grace period, each kind capped at the orphans limit); none until an agent reports. */
  async orphanGauges(): Promise<OrphanGauges | undefined> {
    const orphans = await this.orphans({ graceMs: ORPHAN_GRACE_MS, limit: 1000 });
    if (orphans.agents.length === 0) return undefined;
    return {
      allowed_unreported: orphans.allowedUnreported.length,
      redeemed_unreported: orphans.redeemedUnreported.length,
      started_unfinished: orphans.startedUnfinished.length,
      reported_twice: orphans.reportedTwice.length,
    };
  }

  /** Failure rate per agent and tool over the outcomes finished in the last `windowMs` (anomaly alerts, the dashboard). */
  async failureRates(windowMs: number, filter: { agent?: string } = {}): Promise<FailureRate[]> {
    const now = this.clock.now();
    const rates = new Map<string, FailureRate>();
    for (const row of await this.store.outcomeRates({ fromMs: now - windowMs, toMs: now + 1 }, filter)) {
      const key = `${row.agent}\u0000${row.tool}`;
      const rate = rates.get(key) ?? { agent: row.agent, tool: row.tool, succeeded: 0, failed: 0, rate: 0 };
      if (row.status === 'succeeded') rate.succeeded += row.count;
      if (row.status === 'failed') rate.failed += row.count;
      rate.rate = rate.failed / Math.max(1, rate.succeeded + rate.failed);
      rates.set(key, rate);
    }
    return [...rates.values()].sort((a, b) => b.rate - a.rate || (a.tool < b.tool ? -1 : 1));
  }
}

export function outcomeView(row: OutcomeRow): OutcomeView {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    decisionId: row.decision_id,
    agent: row.agent,
    tool: row.tool,
    approvalId: row.approval_id,
    status: row.status,
    decidedAt: new Date(row.decided_at).toISOString(),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    durationMs: row.duration_ms,
    error: row.error_class === null && row.error_message === null ? null : { class: row.error_class, message: row.error_message },
    result: row.result_digest === null ? null : { digest: row.result_digest, size: row.result_size ?? 0 },
    reportedAt: new Date(row.reported_at).toISOString(),
    duplicates: row.duplicates,
  };
}
