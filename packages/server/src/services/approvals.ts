import { callHash, type Decision } from '@airlock/core';
import type { Clock } from '../clock.js';
import { AirlockError, notFound } from '../errors.js';
import { newId } from '../ids.js';
import type { AuditEntry, AuditWriter } from '../audit/writer.js';
import type { AuditType } from '../audit/record.js';
import type { ApprovalRow } from '../store/schema.js';
import type { ApprovalPatch, ApprovalFilter, Store } from '../store/store.js';
import type { AgentIdentity } from './agents.js';
import { approvalView, type ApprovalStatus, type ApprovalView } from './approval-view.js';
import type { EventBus } from './events.js';
import { KeyedLock, type Locks } from './keyed-lock.js';

/** Who is looking: an agent sees only its own approvals; a person sees all. */
export type ApprovalViewer = { agent: string } | { user: string };

export interface Call {
  tool: string;
  args: Record<string, unknown>;
  session?: string | undefined;
}

/**
 * The approval lifecycle: pending → approved | denied | expired; approved → redeemed (once) or
 * expired. Bound to the hash of the exact call; every transition is audited and published.
 * Expiry happens lazily whenever an approval is read, and in a periodic sweep.
 */
export class ApprovalService {
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly store: Store,
    private readonly writer: AuditWriter,
    private readonly events: EventBus,
    private readonly clock: Clock,
    private readonly ttlMs: number,
    /** Several instances share one lock service (Redis), so a transition is serialised fleet-wide. */
    private readonly lock: Locks = new KeyedLock(),
  ) {}

  /** The approval a `require_approval` decision opens, and its audit entry, for the decision's own batch. */
  open(input: { decisionId: string; identity: AgentIdentity; call: Call; decision: Decision; at: number }): { view: ApprovalView; entry: AuditEntry } {
    const { identity, call, decision } = input;
    const row: ApprovalRow = {
      id: newId('apr'),
      decision_id: input.decisionId,
      agent: identity.agent,
      role: identity.role,
      environment: identity.environment,
      tool: call.tool,
      args: JSON.stringify(call.args),
      session: call.session ?? null,
      call_hash: callHash({ agent: identity.agent, tool: call.tool, args: call.args }),
      rule: decision.rule,
      reason: decision.reason,
      approvers: JSON.stringify(decision.approvers ?? []),
      policy_version: Number(decision.policy.version),
      status: 'pending',
      created_at: input.at,
      expires_at: input.at + this.ttlMs,
      resolved_by: null,
      resolved_at: null,
      resolution_reason: null,
      redeemed_at: null,
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
          data: { approval: row.id, decision: input.decisionId, callHash: row.call_hash, approvers: view.approvers, expiresAt: view.expiresAt },
        },
        writes: [{ kind: 'approval.insert', row }],
      },
    };
  }

  /** Announces approvals opened by committed decisions. */
  published(view: ApprovalView): void {
    this.events.publish({ type: 'approval', data: view });
  }

  async get(id: string, viewer: ApprovalViewer): Promise<ApprovalView> {
    const row = await this.read(id, viewer);
    if (!this.isDue(row)) return approvalView(row);
    return approvalView(await this.lock.run(id, async () => this.expireIfDue(await this.read(id, viewer))));
  }

  async list(filter: ApprovalFilter, cursor: string | undefined, limit: number): Promise<{ approvals: ApprovalView[]; nextCursor: string | null }> {
    await this.sweep();
    const before = cursor === undefined ? undefined : decodeCursor(cursor);
    const rows = await this.store.listApprovals(filter, { ...(before ? { beforeCreated: before } : {}), limit });
    const last = rows[rows.length - 1];
    return {
      approvals: rows.map(approvalView),
      nextCursor: rows.length === limit && last ? encodeCursor(Number(last.created_at), last.id) : null,
    };
  }

  async approve(id: string, username: string, reason: string): Promise<ApprovalView> {
    return this.resolve(id, username, reason, 'approved');
  }

  async deny(id: string, username: string, reason: string): Promise<ApprovalView> {
    return this.resolve(id, username, reason, 'denied');
  }

  /** The agent spends its approval on exactly the call that was approved, once. */
  async redeem(id: string, agent: string, call: { tool: string; args: Record<string, unknown> }): Promise<ApprovalView> {
    return this.lock.run(id, async () => {
      const row = await this.expireIfDue(await this.read(id, { agent }));
      const status = row.status as ApprovalStatus;
      if (status !== 'approved') throw refusal(status);
      if (callHash({ agent, tool: call.tool, args: call.args }) !== row.call_hash) {
        throw new AirlockError('call_mismatch', 'this approval was granted for a different call (tool or arguments differ)');
      }
      return this.transition(row, { status: 'redeemed', redeemed_at: this.clock.now() }, 'approval.redeemed', `agent:${agent}`, {});
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
      const untilExpiry = Date.parse(row.expiresAt) - this.clock.now();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([changed, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, Math.min(timeoutMs, untilExpiry)))))]);
      clearTimeout(timer);
      return await this.get(id, viewer);
    } finally {
      unsubscribe();
      this.waiters.delete(wake);
      signal?.removeEventListener('abort', wake);
    }
  }

  /** Expires every pending or approved-unredeemed approval past its time (audited). */
  async sweep(): Promise<number> {
    let expired = 0;
    for (;;) {
      const due = await this.store.approvalsDueBy(this.clock.now(), 100);
      if (due.length === 0) return expired;
      for (const row of due) {
        await this.lock.run(row.id, async () => {
          const fresh = await this.store.getApproval(row.id);
          if (fresh && this.isDue(fresh)) {
            await this.expireIfDue(fresh);
            expired++;
          }
        });
      }
    }
  }

  /** Wakes every long-poll so shutdown does not wait for their timeouts. */
  releaseWaiters(): void {
    for (const wake of [...this.waiters]) wake();
  }

  private async resolve(id: string, username: string, reason: string, status: 'approved' | 'denied'): Promise<ApprovalView> {
    return this.lock.run(id, async () => {
      const row = await this.expireIfDue(await this.read(id, { user: username }));
      if (row.status !== 'pending') {
        if (row.status === 'expired') throw refusal('expired');
        throw new AirlockError('approval_not_pending', `approval is already ${row.status}`, { status: row.status });
      }
      const actor = `user:${username}`;
      return this.transition(
        row,
        { status, resolved_by: username, resolved_at: this.clock.now(), resolution_reason: reason },
        status === 'approved' ? 'approval.approved' : 'approval.denied',
        actor,
        { reason },
      );
    });
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
    return (row.status === 'pending' || row.status === 'approved') && Number(row.expires_at) <= this.clock.now();
  }

  /** Call holding the approval's lock: every transition of one approval is serialised on it. */
  private async expireIfDue(row: ApprovalRow): Promise<ApprovalRow> {
    if (!this.isDue(row)) return row;
    return this.transitionRow(row, { status: 'expired' }, 'approval.expired', 'system', { was: row.status });
  }

  private async transition(row: ApprovalRow, patch: ApprovalPatch, type: AuditType, actor: string, data: Record<string, unknown>): Promise<ApprovalView> {
    return approvalView(await this.transitionRow(row, patch, type, actor, data));
  }

  private async transitionRow(row: ApprovalRow, patch: ApprovalPatch, type: AuditType, actor: string, data: Record<string, unknown>): Promise<ApprovalRow> {
    const at = this.clock.now();
    await this.writer.append([
      {
        record: { type, at, actor, agent: row.agent, tool: row.tool, rule: row.rule, data: { approval: row.id, status: patch.status, ...data } },
        writes: [{ kind: 'approval.update', id: row.id, patch }],
      },
    ]);
    const updated = { ...row, ...patch };
    this.events.publish({ type: 'approval', data: approvalView(updated) });
    return updated;
  }
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

function encodeCursor(at: number, id: string): string {
  return Buffer.from(JSON.stringify([at, id])).toString('base64url');
}

function decodeCursor(cursor: string): { at: number; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [unknown, unknown];
    if (typeof at === 'number' && typeof id === 'string') return { at, id };
  } catch {
    // falls through to the error below
  }
  throw new AirlockError('invalid_request', 'cursor is not one this server issued', { param: 'cursor' });
}
