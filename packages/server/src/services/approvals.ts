import {
  callHash,
  DEFAULT_ROUTE,
  parseDuration,
  releasesOf,
  reservationOf,
  type ApprovalRoute,
  type ApprovalTier,
  type CounterStore,
  type Decision,
  type Reservation,
  type SessionAttributes,
} from '@airlock/core';
import type { Clock } from '../clock.js';
import { AirlockError, notFound } from '../errors.js';
import { newId } from '../ids.js';
import type { AuditEntry, AuditWriter } from '../audit/writer.js';
import type { AuditType } from '../audit/record.js';
import type { ApprovalRow } from '../store/schema.js';
import type { ApprovalPatch, ApprovalFilter, ApprovalSort, Store } from '../store/store.js';
import type { AgentIdentity } from './agents.js';
import type { UserKind } from './auth.js';
import {
  approvalView,
  boundHash,
  countingVotes,
  routeOf,
  tierOf,
  type ApprovalStatus,
  type ApprovalView,
  type ApprovalVote,
} from './approval-view.js';
import { ApprovalScheduler } from './approval-scheduler.js';
import { approvalStats, type ApprovalStats, type StatsFilter } from './approval-stats.js';
import type { EventBus } from './events.js';
import { KeyedLock, type Locks } from './keyed-lock.js';
import type { PolicyService } from './policies.js';

/** Who is looking: an agent sees only its own approvals; a person sees all. */
export type ApprovalViewer = { agent: string } | { user: string };

export interface Call {
  tool: string;
  args: Record<string, unknown>;
  session?: string | undefined;
  /** Attributes the application bound to the session (visible to policy as `session.*`). */
  sessionAttributes?: SessionAttributes | undefined;
  /** The agent's stated reason: recorded and shown to approvers, never used to decide. */
  intent?: string | undefined;
}

/** What an approval is bound to: the call's hash, with the session attributes when it had any (core `callHash`). */
export function boundCallHash(agent: string, tool: string, args: Record<string, unknown>, sessionAttributes: SessionAttributes | null | undefined): string {
  return callHash({ agent, tool, args, sessionAttributes });
}

function attributesOf(row: Pick<ApprovalRow, 'session_attributes'>): SessionAttributes | null {
  return row.session_attributes === null ? null : (JSON.parse(row.session_attributes) as SessionAttributes);
}

/** A person acting on an approval, with the approver groups that entitle them. */
export interface Approver {
  username: string;
  groups: readonly string[];
  /** Recorded on each vote and on the decision: time to decision is counted for people only. */
  kind: UserKind;
}

/** A single-use link token presented with an action: it must be unspent and for the current tier. */
export interface LinkUse {
  nonce: string;
  tier: number;
}

export interface ApproveInput {
  reason: string;
  /** Edit and approve: the call runs with these arguments instead (decided again: policy and limits). */
  args?: Record<string, unknown> | undefined;
  link?: LinkUse | undefined;
  /**
   * The call the approver was shown (its `callHash`): refused with `call_changed` when another
   * approver's edit replaced it meanwhile, so a vote never counts for a call its author never saw.
   */
  callHash?: string | undefined;
}

/** What happened to an approval, for notifiers. */
export type ApprovalEventKind = 'requested' | 'progress' | 'escalated' | 'approved' | 'denied' | 'timed_out' | 'expired' | 'redeemed';
export type ApprovalListener = (kind: ApprovalEventKind, view: ApprovalView) => void;

export interface ApprovalServiceOptions {
  /** How long an approval stays open when its route does not say (`expiresIn`). */
  ttlMs: number;
  /** The active policy judges edited calls. */
  policies: PolicyService;
  /**
   * The limit counters the engine charges: what an approval reserved is released here when it ends
   * without running, and an edited call is charged in place of the call it replaces.
   */
  counters?: CounterStore;
  /** Reports a release the counters refused (they then over-count until the window passes). */
  logError?: (message: string) => void;
  /** Several instances share one lock service (Redis), so a transition is serialised fleet-wide. */
  lock?: Locks;
}

/**
 * The approval lifecycle: pending → approved | denied | expired; approved → redeemed (once) or
 * expired. A pending approval sits in one tier of its route: approvals of entitled people are
 * collected until the tier's `required` distinct ones are in; a tier that times out escalates to
 * the next or falls back to a decision. Bound to the hash of the exact call (the edited one after
 * an edit); every transition is audited and published. Timeouts and expiry are applied by a
 * scheduler on the injected clock, whenever an approval is read, and in a periodic sweep.
 */
export class ApprovalService {
  private readonly waiters = new Set<() => void>();
  private readonly scheduler: ApprovalScheduler;
  private readonly ttlMs: number;
  private readonly policies: PolicyService;
  private readonly lock: Locks;
  private readonly counters: CounterStore | undefined;
  private readonly logError: (message: string) => void;
  private listener: ApprovalListener | undefined;
  /** Throws to refuse a redemption (the kill switch). */
  redeemGuard: ((row: ApprovalRow) => void) | undefined;
  /** Told of every redeemed approval: the call is about to run (novelty signals record it). */
  onRedeemed: ((row: ApprovalRow, view: ApprovalView) => void) | undefined;

  constructor(
    private readonly store: Store,
    private readonly writer: AuditWriter,
    private readonly events: EventBus,
    private readonly clock: Clock,
    options: ApprovalServiceOptions,
  ) {
    this.ttlMs = options.ttlMs;
    this.policies = options.policies;
    this.lock = options.lock ?? new KeyedLock();
    this.counters = options.counters;
    this.logError = options.logError ?? (() => undefined);
    this.scheduler = new ApprovalScheduler(clock, { sweep: () => this.sweep(), nextDue: () => this.store.nextApprovalDue() });
  }

  /** Sets who hears about every committed transition (the notification dispatcher). */
  listen(listener: ApprovalListener): void {
    this.listener = listener;
  }

  /** Applies what fell due while the server was down, then keeps timeouts firing on time. */
  async startScheduler(onError: (error: unknown) => void): Promise<void> {
    await this.scheduler.start(onError);
  }

  stopScheduler(): Promise<void> {
    return this.scheduler.stop();
  }

  /** The approval a `require_approval` decision opens, and its audit entry, for the decision's own batch. */
  open(input: { decisionId: string; identity: AgentIdentity; call: Call; decision: Decision; at: number }): { view: ApprovalView; entry: AuditEntry } {
    const { identity, call, decision } = input;
    const route: ApprovalRoute = decision.approval ?? DEFAULT_ROUTE;
    const tier = tierOf(route, route.tierIndex);
    const timing = this.timing(route, route.tierIndex, input.at);
    const row: ApprovalRow = {
      id: newId('apr'),
      decision_id: input.decisionId,
      agent: identity.agent,
      role: identity.role,
      environment: identity.environment,
      tool: call.tool,
      args: JSON.stringify(call.args),
      session: call.session ?? null,
      call_hash: boundCallHash(identity.agent, call.tool, call.args, call.sessionAttributes),
      rule: decision.rule,
      reason: decision.reason,
      approvers: JSON.stringify(tier.approvers),
      policy_version: Number(decision.policy.version),
      status: 'pending',
      created_at: input.at,
      expires_at: timing.expires_at,
      resolved_by: null,
      resolved_by_kind: null,
      resolved_at: null,
      resolution_reason: null,
      redeemed_at: null,
      route: JSON.stringify(route),
      tier: route.tierIndex,
      votes: '[]',
      deadline_at: timing.deadline_at,
      edited_args: null,
      edited_call_hash: null,
      used_tokens: '[]',
      session_attributes: call.sessionAttributes && Object.keys(call.sessionAttributes).length > 0 ? JSON.stringify(call.sessionAttributes) : null,
      intent: call.intent ?? null,
    };
    const view = approvalView(row);
    return {
      view,
      entry: {
        record: {
          type: 'approval.created',
          at: input.at,
          actor: `agent:${identity.agent}`,
          agent: identity.agent,
          tool: call.tool,
          rule: decision.rule,
          data: {
            approval: row.id,
            decision: input.decisionId,
            callHash: row.call_hash,
            approvers: view.approvers,
            tier: view.tier,
            required: view.requiredApprovals,
            deadlineAt: view.deadlineAt,
            expiresAt: view.expiresAt,
          },
        },
        writes: [{ kind: 'approval.insert', row }],
      },
    };
  }

  /** Announces approvals opened by committed decisions, and schedules their timeouts. */
  published(view: ApprovalView): void {
    this.events.publish({ type: 'approval', data: view });
    this.scheduler.due(Math.min(Date.parse(view.expiresAt), view.deadlineAt === null ? Infinity : Date.parse(view.deadlineAt)));
    this.listener?.('requested', view);
  }

  async get(id: string, viewer: ApprovalViewer): Promise<ApprovalView> {
    const row = await this.read(id, viewer);
    if (!this.isDue(row)) return approvalView(row);
    return approvalView(await this.lock.run(id, async () => this.settle(await this.read(id, viewer))));
  }

  async list(filter: ApprovalFilter, cursor: string | undefined, limit: number): Promise<{ approvals: ApprovalView[]; nextCursor: string | null }> {
    await this.sweep();
    const sort = filter.sort ?? 'newest';
    const after = cursor === undefined ? undefined : decodeCursor(cursor, sort);
    const rows = await this.store.listApprovals(filter, { ...(after ? { after } : {}), limit });
    const last = rows[rows.length - 1];
    const keyOf = (row: ApprovalRow): number => Number(sort === 'deadline' ? (row.deadline_at ?? row.expires_at) : row.created_at);
    return {
      approvals: rows.map(approvalView),
      nextCursor: rows.length === limit && last ? encodeCursor(keyOf(last), last.id, sort) : null,
    };
  }

  /**
   * One entitled person approves. The approval is granted once the current tier has its required
   * number of distinct approvals; until then it stays pending. With `args` the person edits the
   * call: the edited call is decided again as a new call, by the active policy and the limits
   * (charged to its own counters, in place of what the approval held), and refused if it would be
   * blocked. Semantics: docs/approvals.md, "Approvals and limits".
   */
  async approve(id: string, approver: Approver, input: ApproveInput): Promise<ApprovalView> {
    return this.lock.run(id, async () => {
      const row = await this.openRow(id, approver, input.link);
      const edit: EditCharge = {};
      let step: ApprovalStep;
      try {
        step = await this.prepareApproval(row, approver, input, edit);
      } catch (error) {
        // Refused before anything was recorded: the edited call's charge is taken back.
        if (edit.charged) await this.release(edit.charged);
        throw error;
      }
      // Should recording fail from here on, both charges stay counted: the safe side.
      const view = await this.transition(row, step.patch, step.type, `user:${approver.username}`, step.data, step.kind);
      if (edit.replaced) await this.release(edit.replaced);
      return view;
    });
  }

  /**
   * The checks of one approval and the change it makes, not yet recorded. An edit charges the
   * edited call as soon as it is decided and says so in `edit`, so that a refusal after that can
   * take the charge back. Call holding the lock.
   */
  private async prepareApproval(row: ApprovalRow, approver: Approver, input: ApproveInput, edit: EditCharge): Promise<ApprovalStep> {
    // Read under the approval's lock, with the row the vote is recorded on.
    if (input.callHash !== undefined && input.callHash !== boundHash(row)) {
      throw new AirlockError('call_changed', 'the call was edited after you were shown it: review the call as it is now, then approve it again', { callHash: boundHash(row) });
    }
    const now = this.clock.now();
    let route = routeOf(row);
    let tier = tierOf(route, row.tier);
    const patch: ApprovalPatch = {};
    let edited = false;
    let grantsNow = false;
    if (input.args !== undefined) {
      const hash = boundCallHash(row.agent, row.tool, input.args, attributesOf(row));
      if (hash !== boundHash(row)) {
        edited = true;
        const replaced = await this.reservationOf(row);
        const judged = await this.judgeEdit(row, input.args, now, replaced);
        edit.charged = reservationOf(`${row.id}.${newId('edit')}`, now, judged);
        if (replaced && replaced.limits.length > 0) edit.replaced = replaced;
        patch.edited_args = hash === row.call_hash ? null : JSON.stringify(input.args);
        patch.edited_call_hash = hash === row.call_hash ? null : hash;
        if (judged.effect === 'allow') {
          // The edited call needs no approval at all: this person's approval is enough.
          grantsNow = true;
        } else {
          const next = judged.approval ?? DEFAULT_ROUTE;
          let index: number;
          if (judged.rule === row.rule && sameTiers(next, route)) {
            index = Math.max(row.tier, next.tierIndex);
          } else {
            route = next;
            index = next.tierIndex;
            patch.route = JSON.stringify(next);
          }
          if (index !== row.tier || patch.route !== undefined) Object.assign(patch, { tier: index, ...this.timing(route, index, now) });
          tier = tierOf(route, index);
          if (!entitled(approver, tier)) {
            throw new AirlockError('not_entitled', `the edited call needs approval by ${describeTier(tier)}; ${approver.username} is not in those groups`, {
              tier: tier.name,
              approvers: tier.approvers,
            });
          }
        }
      }
    }
    const updated: ApprovalRow = { ...row, ...patch };
    const counting = countingVotes(updated);
    if (counting.some((vote) => vote.by === approver.username)) {
      throw new AirlockError('already_approved', `${approver.username} has already approved this call; it needs ${tier.required} different people`, {
        approvalsRemaining: tier.required - counting.length,
      });
    }
    const vote: ApprovalVote = { by: approver.username, kind: approver.kind, at: now, reason: input.reason, tier: updated.tier, callHash: boundHash(updated), edited, ...(edit.charged ? { charged: edit.charged } : {}) };
    patch.votes = JSON.stringify([...(JSON.parse(row.votes) as ApprovalVote[]), vote]);
    if (input.link) patch.used_tokens = spend(row, input.link);
    const approvals = counting.length + 1;
    const data: Record<string, unknown> = {
      reason: input.reason,
      kind: approver.kind,
      tier: tier.name,
      approvals,
      required: tier.required,
      ...(edited ? { edited: true, args: input.args } : {}),
      ...(edit.charged ? { charged: edit.charged } : {}),
      ...(edit.replaced ? { released: edit.replaced } : {}),
      ...(input.link ? { via: 'link' } : {}),
    };
    if (grantsNow || approvals >= tier.required) {
      Object.assign(patch, { status: 'approved', resolved_by: approver.username, resolved_by_kind: approver.kind, resolved_at: now, resolution_reason: input.reason });
      return { patch, data, type: 'approval.approved', kind: 'approved' };
    }
    return { patch, data, type: 'approval.vote', kind: 'progress' };
  }

  /** One entitled person denies: a single denial ends the approval, whatever the tier needs to approve. */
  async deny(id: string, approver: Approver, input: { reason: string; link?: LinkUse | undefined }): Promise<ApprovalView> {
    return this.lock.run(id, async () => {
      const row = await this.openRow(id, approver, input.link);
      const patch: ApprovalPatch = {
        status: 'denied',
        resolved_by: approver.username,
        resolved_by_kind: approver.kind,
        resolved_at: this.clock.now(),
        resolution_reason: input.reason,
      };
      if (input.link) patch.used_tokens = spend(row, input.link);
      const tier = tierOf(routeOf(row), row.tier);
      return this.transition(row, patch, 'approval.denied', `user:${approver.username}`, { reason: input.reason, kind: approver.kind, tier: tier.name, ...(input.link ? { via: 'link' } : {}) }, 'denied');
    });
  }

  /**
   * The agent spends its approval, once: it presents the call it asked for (or the edited call)
   * and gets back the approval, whose `args` are the arguments to run.
   */
  async redeem(id: string, agent: string, call: { tool: string; args: Record<string, unknown>; sessionAttributes?: SessionAttributes | undefined }): Promise<ApprovalView> {
    return this.lock.run(id, async () => {
      const row = await this.settle(await this.read(id, { agent }));
      const status = row.status as ApprovalStatus;
      if (status !== 'approved') throw refusal(status);
      const presented = boundCallHash(agent, call.tool, call.args, call.sessionAttributes);
      if (presented !== row.call_hash && presented !== boundHash(row)) {
        throw new AirlockError('call_mismatch', 'this approval was granted for a different call (tool, arguments or session attributes differ)');
      }
      // The kill switch: an approved call does not run while its agent, role, tool or the fleet is paused.
      this.redeemGuard?.(row);
      const view = await this.transition(row, { status: 'redeemed', redeemed_at: this.clock.now() }, 'approval.redeemed', `agent:${agent}`, {}, 'redeemed');
      this.onRedeemed?.(row, view);
      return view;
    });
  }

  /**
   * Long-poll: resolves as soon as the approval leaves `pending` (or the timeout passes, or it
   * expires, or the server shuts down), with the approval as it then is.
   */
  async wait(id: string, viewer: ApprovalViewer, timeoutMs: number, signal?: AbortSignal): Promise<ApprovalView> {
    let settle: (() => void) | undefined;
    const changed = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const unsubscribe = this.events.subscribe(['approval'], (event) => {
      if (event.type === 'approval' && event.data.id === id && event.data.status !== 'pending') settle?.();
    });
    const wake = (): void => settle?.();
    this.waiters.add(wake);
    signal?.addEventListener('abort', wake);
    try {
      const row = await this.get(id, viewer);
      if (row.status !== 'pending') return row;
      const due = Math.min(Date.parse(row.expiresAt), row.deadlineAt === null ? Infinity : Date.parse(row.deadlineAt));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([changed, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, Math.min(timeoutMs, due - this.clock.now())))))]);
      clearTimeout(timer);
      return await this.get(id, viewer);
    } finally {
      unsubscribe();
      this.waiters.delete(wake);
      signal?.removeEventListener('abort', wake);
    }
  }

  /** Applies every due timeout and expiry (audited). Returns how many approvals changed. */
  async sweep(): Promise<number> {
    let changed = 0;
    for (;;) {
      const due = await this.store.approvalsDueBy(this.clock.now(), 100);
      let progressed = false;
      for (const row of due) {
        await this.lock.run(row.id, async () => {
          const fresh = await this.store.getApproval(row.id);
          if (fresh && this.isDue(fresh)) {
            await this.settle(fresh);
            changed++;
            progressed = true;
          }
        });
      }
      if (due.length === 0 || !progressed) return changed;
    }
  }

  /** Per rule: how approvals were decided and how fast (the progressive-trust input). */
  async stats(filter: StatsFilter): Promise<ApprovalStats> {
    return approvalStats(await this.store.approvalOutcomes(filter), filter);
  }

  /** Wakes every long-poll so shutdown does not wait for their timeouts. */
  releaseWaiters(): void {
    for (const wake of [...this.waiters]) wake();
  }

  /** A pending approval this person may act on now, with the link (if any) still valid. Call holding the lock. */
  private async openRow(id: string, approver: Approver, link: LinkUse | undefined): Promise<ApprovalRow> {
    const row = await this.settle(await this.read(id, { user: approver.username }));
    if (row.status !== 'pending') {
      if (row.status === 'expired') throw refusal('expired');
      throw new AirlockError('approval_not_pending', `approval is already ${row.status}`, { status: row.status });
    }
    if (link) {
      if ((JSON.parse(row.used_tokens) as string[]).includes(link.nonce)) throw new AirlockError('link_used', 'this link has already been used');
      if (link.tier !== row.tier) throw new AirlockError('link_invalid', 'this link was sent for an earlier tier of the approval; open the approval instead');
    }
    const tier = tierOf(routeOf(row), row.tier);
    if (!entitled(approver, tier)) {
      throw new AirlockError('not_entitled', `this approval is with ${describeTier(tier)}; ${approver.username} is not in those groups`, {
        tier: tier.name,
        approvers: tier.approvers,
      });
    }
    return row;
  }

  /**
   * The edited call decided again as a new call, by the active policy and the limits: charged to
   * its own counters (unless it ends blocked), judged as if what the approval holds (`replacing`)
   * were released. Refused when the policy or a blocking limit would block it.
   */
  private async judgeEdit(row: ApprovalRow, args: Record<string, unknown>, now: number, replacing: Reservation | undefined): Promise<Decision> {
    const engine = this.policies.active()?.engine;
    if (!engine) throw new AirlockError('edit_blocked', 'no policy version is active, so the edited call cannot be checked');
    const request = {
      agent: row.agent,
      role: row.role,
      environment: row.environment,
      tool: row.tool,
      args,
      at: now,
      ...(row.session === null ? {} : { session: row.session }),
      ...(row.session_attributes === null ? {} : { sessionAttributes: attributesOf(row) as SessionAttributes }),
    };
    const decision = await engine.decideReplacing(request, replacing ? releasesOf(replacing) : []);
    if (decision.effect === 'block') {
      const by = decision.decidedBy === 'limit' ? `the limit ${decision.rule ?? ''}` : 'the policy';
      throw new AirlockError('edit_blocked', `${by} would block the edited call: ${decision.reason}`, {
        rule: decision.rule,
        ...(decision.decidedBy === 'limit' ? { limit: decision.rule } : {}),
        ...(decision.error ? { decisionError: decision.error.code } : {}),
      });
    }
    return decision;
  }

  /**
   * What the approval holds of the limits now: the charge of its latest edit, or else what the
   * decision that opened it consumed (read from that decision's audit record).
   */
  private async reservationOf(row: ApprovalRow): Promise<Reservation | undefined> {
    const votes = JSON.parse(row.votes) as ApprovalVote[];
    for (let i = votes.length - 1; i >= 0; i--) {
      const charged = votes[i]?.charged;
      if (charged) return charged;
    }
    const at = Number(row.created_at);
    // The decision is found by its time and id, and only its own record is read: an agent's other
    // records at the same instant may carry large arguments.
    const seq = (await this.store.findDecisions([{ id: row.decision_id, at }])).find((ref) => ref.id === row.decision_id && ref.agent === row.agent)?.seq;
    const [record] = seq === undefined ? [] : await this.store.auditRecords([seq]);
    if (!record) return undefined;
    const { data } = JSON.parse(record.payload) as { data: { decision?: Pick<Decision, 'limits'> } };
    return data.decision ? reservationOf(`${row.id}.d`, at, data.decision) : undefined;
  }

  /** Takes a recorded reservation back from the counters. A refusal is reported: they then over-count, the safe side. */
  private async release(reservation: Reservation): Promise<void> {
    const releases = releasesOf(reservation);
    if (releases.length === 0 || !this.counters?.release) return;
    try {
      await this.counters.release(releases);
    } catch (error) {
      this.logError(`releasing the limits held by ${reservation.id} failed (they over-count until the window passes): ${String(error)}`);
    }
  }

  /** When a tier that starts at `at` times out, and when the approval expires if nobody acts. */
  private timing(route: ApprovalRoute, index: number, at: number): { deadline_at: number | null; expires_at: number } {
    const timeoutMs = timeoutOf(tierOf(route, index));
    const windowMs = route.expiresIn === null ? Math.max(this.ttlMs, timeoutMs ?? 0) : (parseDuration(route.expiresIn) ?? this.ttlMs);
    return { deadline_at: timeoutMs === undefined ? null : at + timeoutMs, expires_at: at + windowMs };
  }

  /** Reads an approval, enforcing the viewer. */
  private async read(id: string, viewer: ApprovalViewer): Promise<ApprovalRow> {
    const row = await this.store.getApproval(id);
    if (!row) throw notFound(`approval '${id}'`);
    if ('agent' in viewer && viewer.agent !== row.agent) {
      throw new AirlockError('approval_wrong_agent', 'this approval belongs to another agent');
    }
    return row;
  }

  private isDue(row: ApprovalRow): boolean {
    const now = this.clock.now();
    if (row.status === 'pending' && row.deadline_at !== null && Number(row.deadline_at) <= now) return true;
    return (row.status === 'pending' || row.status === 'approved') && Number(row.expires_at) <= now;
  }

  /**
   * Applies what is due, in order: tier timeouts (a deadline at or before the expiry comes first),
   * then expiry. Call holding the approval's lock: every transition of one approval is serialised on it.
   */
  private async settle(row: ApprovalRow): Promise<ApprovalRow> {
    let current = row;
    const now = this.clock.now();
    while (current.status === 'pending' && current.deadline_at !== null && Number(current.deadline_at) <= now && Number(current.deadline_at) <= Number(current.expires_at)) {
      current = await this.timeOut(current, now);
    }
    if ((current.status === 'pending' || current.status === 'approved') && Number(current.expires_at) <= now) {
      return this.transitionRow(current, { status: 'expired' }, 'approval.expired', 'system', { was: current.status }, 'expired');
    }
    return current;
  }

  /** The current tier's timeout: escalate to the next tier, or decide as the route says. */
  private async timeOut(row: ApprovalRow, now: number): Promise<ApprovalRow> {
    const route = routeOf(row);
    const tier = tierOf(route, row.tier);
    const next = route.tiers[row.tier + 1];
    const waited = `no decision within ${tier.timeout ?? 'the timeout'} in tier ${tier.name}`;
    if (tier.onTimeout === 'escalate' && next) {
      const timing = this.timing(route, row.tier + 1, now);
      const patch: ApprovalPatch = { tier: row.tier + 1, ...timing };
      const data = { from: tier.name, to: next.name, approvers: next.approvers, required: next.required, deadlineAt: iso(timing.deadline_at), expiresAt: iso(timing.expires_at) };
      return this.transitionRow(row, patch, 'approval.escalated', 'system', data, 'escalated');
    }
    const action = tier.onTimeout === 'allow' ? 'allow' : 'block';
    const reason = `${waited}: ${action === 'allow' ? 'approved' : 'blocked'} by the policy's timeout fallback`;
    const patch: ApprovalPatch =
      action === 'allow'
        ? { status: 'approved', resolved_by: 'system', resolved_at: now, resolution_reason: reason, expires_at: this.timing(route, row.tier, now).expires_at }
        : { status: 'expired', resolved_by: 'system', resolved_at: now, resolution_reason: reason };
    return this.transitionRow(row, patch, 'approval.timed_out', 'system', { action, tier: tier.name, timeout: tier.timeout }, 'timed_out');
  }

  private async transition(row: ApprovalRow, patch: ApprovalPatch, type: AuditType, actor: string, data: Record<string, unknown>, kind: ApprovalEventKind): Promise<ApprovalView> {
    return approvalView(await this.transitionRow(row, patch, type, actor, data, kind));
  }

  private async transitionRow(
    row: ApprovalRow,
    patch: ApprovalPatch,
    type: AuditType,
    actor: string,
    data: Record<string, unknown>,
    kind: ApprovalEventKind,
  ): Promise<ApprovalRow> {
    const at = this.clock.now();
    // An approval that ends without its call running (denied, expired, timed out to a block)
    // releases what it held of the limits: recorded in this record, then taken back.
    const ends = (patch.status === 'denied' || patch.status === 'expired') && (row.status === 'pending' || row.status === 'approved');
    const held = ends ? await this.reservationOf(row) : undefined;
    const released = held && held.limits.length > 0 ? held : undefined;
    await this.writer.append([
      {
        record: {
          type,
          at,
          actor,
          agent: row.agent,
          tool: row.tool,
          rule: row.rule,
          data: { approval: row.id, status: patch.status ?? row.status, ...data, ...(released ? { released } : {}) },
        },
        writes: [{ kind: 'approval.update', id: row.id, patch }],
      },
    ]);
    if (released) await this.release(released);
    const updated = { ...row, ...patch };
    const view = approvalView(updated);
    this.events.publish({ type: 'approval', data: view });
    if (updated.status === 'pending' && updated.deadline_at !== null) this.scheduler.due(Math.min(Number(updated.deadline_at), Number(updated.expires_at)));
    if (updated.status === 'approved') this.scheduler.due(Number(updated.expires_at));
    this.listener?.(kind, view);
    return updated;
  }
}

/** An edit's effect on the limits: the edited call's charge, and the reservation it replaces. */
interface EditCharge {
  charged?: Reservation;
  replaced?: Reservation;
}

/** One approval, ready to be recorded. */
interface ApprovalStep {
  patch: ApprovalPatch;
  data: Record<string, unknown>;
  type: 'approval.approved' | 'approval.vote';
  kind: ApprovalEventKind;
}

function entitled(approver: Approver, tier: ApprovalTier): boolean {
  return tier.approvers.length === 0 || tier.approvers.some((group) => approver.groups.includes(group));
}

function describeTier(tier: ApprovalTier): string {
  return tier.approvers.length === 0 ? `tier ${tier.name}` : `tier ${tier.name} (${tier.approvers.join(', ')})`;
}

/** Two routes with the same tiers (the same rule's route, possibly starting elsewhere). */
function sameTiers(a: ApprovalRoute, b: ApprovalRoute): boolean {
  return JSON.stringify(a.tiers) === JSON.stringify(b.tiers) && a.expiresIn === b.expiresIn;
}

function timeoutOf(tier: ApprovalTier): number | undefined {
  return tier.timeout === null ? undefined : parseDuration(tier.timeout);
}

function spend(row: ApprovalRow, link: LinkUse): string {
  return JSON.stringify([...(JSON.parse(row.used_tokens) as string[]), link.nonce]);
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function refusal(status: ApprovalStatus): AirlockError {
  switch (status) {
    case 'pending':
      return new AirlockError('approval_pending', 'the approval has not been granted yet');
    case 'denied':
      return new AirlockError('approval_denied', 'the approval was denied');
    case 'expired':
      return new AirlockError('approval_expired', 'the approval has expired');
    case 'redeemed':
      return new AirlockError('approval_already_redeemed', 'the approval was already used');
    case 'approved':
      return new AirlockError('approval_not_pending', 'the approval is already approved', { status });
  }
}

/** Opaque to clients: the sort key and id of a page's last row, and the sort it belongs to. */
function encodeCursor(at: number, id: string, sort: ApprovalSort): string {
  return Buffer.from(JSON.stringify([at, id, sort])).toString('base64url');
}

function decodeCursor(cursor: string, sort: ApprovalSort): { at: number; id: string } {
  try {
    const [at, id, cursorSort = 'newest'] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [unknown, unknown, unknown];
    if (typeof at === 'number' && Number.isFinite(at) && typeof id === 'string' && id.length <= 128 && cursorSort === sort) return { at, id };
  } catch {
    // falls through to the error below
  }
  throw new AirlockError('invalid_request', 'cursor is not one this server issued', { param: 'cursor' });
}
