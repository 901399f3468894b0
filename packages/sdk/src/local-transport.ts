import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, watch, writeSync, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { callHash, canonicalJson, compile, DEFAULT_ROUTE, loadBundle, MemoryCounterStore, MemorySeenStore, PolicyLoadError, type ApprovalRoute, type Engine, type ToolReach } from '@airlock/core';
import { outcomeReport, type ExecutionOutcome } from './outcomes.js';
import type { DecideOptions, Transport } from './transport.js';
import { AirlockAlreadyRanError, AirlockUnavailableError, type AirlockDecision, type ApprovalState, type ToolCall } from './types.js';

/** A request for a person's decision, handed to the local approver. */
export interface ApprovalRequest {
  id: string;
  call: ToolCall;
  agent: string;
  reason: string;
  approvers: string[];
  /** The policy's route for the call: tier, approver groups, required approvals. Local mode asks one person. */
  route: ApprovalRoute;
  rule: string | null;
}

/**
 * A person's answer; `args` replaces the call's arguments (edit and approve). An edit is judged by
 * the policy first: one the policy would block is refused.
 */
export interface ApprovalResolution {
  approved: boolean;
  by: string;
  reason?: string;
  args?: Record<string, unknown>;
}

export interface LocalOptions {
  /** Policy file or bundle directory; watched, and reloaded when it changes. */
  policy: string;
  agent: string;
  role: string;
  environment?: string;
  /** JSONL audit file, or false for none. Default `.airlock/audit.jsonl`. */
  audit?: string | false;
  /** Decides approvals in-process (a CLI prompt, a chat message…). Without it they stay pending. */
  approver?: (request: ApprovalRequest) => Promise<ApprovalResolution>;
  /** How long an approval stays valid. Default 15 minutes. */
  approvalTtlMs?: number;
  /** Reports a policy change that failed to load; the previous policy stays in force. */
  onPolicyError?: (error: Error) => void;
  /** Watch the policy for changes. Default true. */
  watch?: boolean;
}

/** How long a decision stays replayable by its idempotency key, as on the server. */
const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;
/**
 * How many keyed decisions local mode keeps, newest first: memory stays bounded for a busy agent.
 * A call asked about again after the window is decided anew (and a new approval opened).
 */
const IDEMPOTENCY_MAX_KEYS = 10_000;

interface KeyedDecision {
  /** The call the key was first used for, as canonical JSON (compared in memory: no need to hash). */
  request: string;
  decision: AirlockDecision;
  at: number;
  /** The attempt that started the call an allow allows, and when: a decision authorizes one run. */
  claim?: string;
  ranAt?: number;
}

interface LocalApproval {
  tool: string;
  state: ApprovalState;
  hash: string;
  expiresAt: number;
  /** When it was redeemed: the approved call's one run started. */
  redeemedAt?: number;
  waiters: (() => void)[];
}

/**
 * Local mode: the engine runs in the agent's process. Decisions are audited to a JSONL file with
 * a synchronous write before they are returned (durable against a crash of the process, not of
 * the machine); approvals live in memory and are decided by the `approver` callback or
 * `resolveApproval`. The policy is reloaded on change; a broken edit keeps the last good policy.
 */
export class LocalTransport implements Transport {
  private engine: Engine;
  private readonly counters = new MemoryCounterStore();
  /** Novelty state, kept across policy reloads like the counters. */
  private readonly seen = new MemorySeenStore();
  private readonly approvals = new Map<string, LocalApproval>();
  /** Decisions by idempotency key, oldest first (insertion order), so trimming starts at the front. */
  private readonly keyed = new Map<string, KeyedDecision>();
  private readonly auditFd: number | undefined;
  private readonly watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private version = 1;
  private identityJson: string | undefined;

  constructor(private readonly options: LocalOptions) {
    this.engine = this.load();
    const audit = options.audit === undefined ? '.airlock/audit.jsonl' : options.audit;
    if (audit) {
      mkdirSync(dirname(audit), { recursive: true });
      this.auditFd = openSync(audit, 'a');
    }
    if (options.watch !== false) {
      this.watcher = watch(options.policy, () => this.scheduleReload());
      this.watcher.unref();
    }
  }

  /** The policy version decisions currently use (1, then +1 per successful reload). */
  get policyVersion(): number {
    return this.version;
  }

  async decide(call: ToolCall, options: DecideOptions = {}): Promise<AirlockDecision> {
    const key = options.idempotencyKey;
    if (key === undefined) return this.decideSync(call);
    const now = Date.now();
    let request: string;
    try {
      request = canonicalJson({ tool: call.tool, args: call.args, session: call.session ?? null });
    } catch {
      // Arguments JSON cannot carry (NaN, Infinity): the engine blocks them as invalid_arguments,
      // and a block opens no approval and counts toward no limit, so there is nothing to replay.
      return this.decideSync(call);
    }
    const known = this.keyed.get(key);
    let repeatOf: string | undefined;
    if (known && known.at > now - IDEMPOTENCY_TTL_MS) {
      const decision = this.replay(known.decision);
      // Everything from here to the return is synchronous: two claims cannot both see "not run".
      const ranAt = decision.effect === 'allow' ? known.ranAt : decision.approval ? this.approvals.get(decision.approval.id)?.redeemedAt : undefined;
      if (known.request !== request) {
        // A repeated id for another call (approval flows always present the same call): with
        // `repeat: decide` a new call, decided afresh in place of the stored one.
        if (options.repeat !== 'decide') throw new AirlockUnavailableError(`idempotency key ${key} was already used for a different call`, { refused: true });
      } else {
        if (ranAt === undefined) {
          if (decision.effect === 'allow' && options.claim !== undefined) {
            known.claim = options.claim;
            known.ranAt = now;
            this.audit({ event: 'call.started', decision: decision.id, claim: options.claim, idempotencyKey: key });
          }
          return decision;
        }
        // The same attempt asking again: the same answer.
        if (options.claim !== undefined && known.claim === options.claim) return decision;
        if (options.repeat !== 'decide') {
          if (options.claim === undefined) return decision;
          const firstRunAt = new Date(ranAt).toISOString();
          this.audit({ event: 'call.refused', code: 'already_ran', decision: decision.id, firstRunAt, claim: options.claim, idempotencyKey: key, call });
          throw new AirlockAlreadyRanError(`the ${call.tool} call of decision ${decision.id} already ran at ${firstRunAt}`, decision.id, firstRunAt);
        }
      }
      repeatOf = decision.id;
      // A new call with a repeated id: decided afresh below, in place of the one that ran.
    }
    const decision = this.decideSync(call, key, options.claim, repeatOf);
    const entry: KeyedDecision = { request, decision, at: now };
    if (decision.effect === 'allow' && options.claim !== undefined) {
      entry.claim = options.claim;
      entry.ranAt = now;
    }
    // Deleted first so that a key past its time (or decided afresh) is re-inserted at the young end of the map.
    this.keyed.delete(key);
    this.keyed.set(key, entry);
    if (this.keyed.size > IDEMPOTENCY_MAX_KEYS) this.trimKeys(now);
    return decision;
  }

  /**
   * `claim`: an allow is claimed for the run that follows (recorded on its decision line);
   * `repeatOf`: the decision that ran before under the same key.
   */
  decideSync(call: ToolCall, idempotencyKey?: string, claim?: string, repeatOf?: string): AirlockDecision {
    const { agent, role } = this.options;
    const environment = this.options.environment ?? 'production';
    // The counter store is in memory (synchronous), so the engine answers without a promise.
    const decision = this.engine.decideSync({ agent, role, environment, tool: call.tool, args: call.args, session: call.session, sessionAttributes: call.sessionAttributes });
    const id = `dec_${randomUUID()}`;
    const result: AirlockDecision = { ...decision, id, approval: undefined };
    if (decision.effect === 'require_approval') {
      const route = decision.approval ?? DEFAULT_ROUTE;
      const approval = this.openApproval(call, decision.reason, route, decision.rule);
      result.approval = { ...route, id: approval.state.id, status: 'pending', expiresAt: new Date(approval.expiresAt).toISOString() };
    }
    if (repeatOf !== undefined) result.repeatOf = repeatOf;
    this.auditDecision(id, environment, call, result, idempotencyKey, decision.effect === 'allow' ? claim : undefined);
    return result;
  }

  async waitForApproval(approvalId: string, timeoutMs: number, signal?: AbortSignal): Promise<ApprovalState> {
    const approval = this.approval(approvalId);
    if (approval.state.status !== 'pending' || signal?.aborted) return { ...approval.state };
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done, { once: true });
      approval.waiters.push(done);
    });
    this.expire(approval);
    return { ...approval.state };
  }

  async redeem(approvalId: string, call: ToolCall): Promise<ApprovalState> {
    const approval = this.approval(approvalId);
    this.expire(approval);
    if (approval.state.status !== 'approved') throw new AirlockUnavailableError(`approval ${approvalId} is ${approval.state.status}, not approved`, { refused: true });
    if (callHash({ agent: this.options.agent, tool: call.tool, args: call.args, sessionAttributes: call.sessionAttributes }) !== approval.hash) {
      throw new AirlockUnavailableError(`approval ${approvalId} was granted for a different call`, { refused: true });
    }
    approval.state.status = 'redeemed';
    approval.redeemedAt = Date.now();
    // Approved and about to run: novelty signals count it as seen.
    const { agent, role } = this.options;
    this.engine.markExecuted({ agent, role, environment: this.options.environment ?? 'production', tool: call.tool, args: approval.state.args, sessionAttributes: call.sessionAttributes });
    this.audit({ event: 'approval.redeemed', approvalId });
    return { ...approval.state, status: 'approved' };
  }

  /**
   * Decides a pending approval from the application's own UI. Throws when it is no longer
   * pending, or when edited arguments would be blocked by the policy.
   */
  resolveApproval(approvalId: string, resolution: ApprovalResolution): void {
    const approval = this.approval(approvalId);
    this.expire(approval);
    if (approval.state.status !== 'pending') throw new Error(`approval ${approvalId} is ${approval.state.status}`);
    if (resolution.approved && resolution.args) {
      const { agent, role } = this.options;
      const judged = this.engine.evaluatePolicy({ agent, role, environment: this.options.environment ?? 'production', tool: approval.tool, args: resolution.args });
      if (judged.effect === 'block') throw new Error(`the policy would block the edited call: ${judged.reason}`);
    }
    approval.state.status = resolution.approved ? 'approved' : 'denied';
    approval.state.resolvedBy = resolution.by;
    approval.state.reason = resolution.reason ?? null;
    if (resolution.approved && resolution.args) approval.state.args = resolution.args;
    this.audit({ event: resolution.approved ? 'approval.approved' : 'approval.denied', approvalId, by: resolution.by, reason: resolution.reason, args: approval.state.args });
    for (const wake of approval.waiters.splice(0)) wake();
  }

  async tools(): Promise<ToolReach[]> {
    return this.engine.toolsFor(this.options.role, this.options.environment ?? 'production');
  }

  /**
   * The call's outcome, appended to the audit file (synchronously, like its decision) as a
   * `call.executed` or `call.failed` line naming the decision: never the result, only its
   * SHA-256 and size.
   */
  reportOutcome(outcome: ExecutionOutcome): void {
    if (this.auditFd === undefined) return;
    const report = outcomeReport(outcome);
    this.audit({
      event: report.status === 'succeeded' ? 'call.executed' : 'call.failed',
      decision: report.decisionId,
      tool: outcome.tool,
      agent: this.options.agent,
      status: report.status,
      durationMs: report.durationMs,
      ...(report.error ? { error: report.error } : {}),
      ...(report.result ? { result: { digest: report.result.digest, size: report.result.size } } : {}),
    });
  }

  recordFailOpen(): void {
    // Local mode always has its engine: it never fails open.
  }

  async close(): Promise<void> {
    this.watcher?.close();
    clearTimeout(this.reloadTimer);
    if (this.auditFd !== undefined) closeSync(this.auditFd);
  }

  private load(): Engine {
    // One counter store across reloads: a new policy version does not hand out fresh budgets.
    return compile(loadBundle(this.options.policy), { counters: this.counters, seen: this.seen, version: this.version });
  }

  private scheduleReload(): void {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => {
      try {
        this.version++;
        this.engine = this.load();
        this.audit({ event: 'policy.reloaded', version: this.version, digest: this.engine.version });
      } catch (error) {
        this.version--;
        const reported = PolicyLoadError.isInstance(error) ? error : new Error(String(error));
        this.audit({ event: 'policy.reload_failed', error: reported.message });
        this.options.onPolicyError?.(reported);
      }
    }, 50);
    this.reloadTimer.unref();
  }

  private openApproval(call: ToolCall, reason: string, route: ApprovalRoute, rule: string | null): LocalApproval {
    const id = `apr_${randomUUID()}`;
    const approval: LocalApproval = {
      tool: call.tool,
      state: { id, status: 'pending', args: call.args, reason: null, resolvedBy: null },
      hash: callHash({ agent: this.options.agent, tool: call.tool, args: call.args, sessionAttributes: call.sessionAttributes }),
      expiresAt: Date.now() + (this.options.approvalTtlMs ?? 15 * 60_000),
      waiters: [],
    };
    this.approvals.set(id, approval);
    const approver = this.options.approver;
    if (approver) {
      const deny = (why: string): void => {
        if (approval.state.status === 'pending') this.resolveApproval(id, { approved: false, by: 'airlock', reason: why });
      };
      approver({ id, call, agent: this.options.agent, reason, approvers: [...route.approvers], route, rule }).then(
        (resolution) => {
          try {
            this.resolveApproval(id, resolution);
          } catch (error) {
            deny(`approval refused: ${error instanceof Error ? error.message : String(error)}`);
          }
        },
        (error: unknown) => deny(`approver failed: ${String(error)}`),
      );
    }
    return approval;
  }

  /** A stored decision as it stands now: the same decision, its approval's current status. */
  private replay(decision: AirlockDecision): AirlockDecision {
    if (!decision.approval) return decision;
    const approval = this.approvals.get(decision.approval.id);
    if (approval) this.expire(approval);
    return { ...decision, approval: { ...decision.approval, status: approval?.state.status ?? 'expired' } };
  }

  /**
   * Drops expired keys and the oldest tenth of the rest. A Map iterated from its oldest end walks
   * over the slots of entries deleted before, so trimming in one pass per thousand new keys keeps
   * the cost per decision flat (trimming one key per insert cost ~20 µs a decision at 10,000 keys).
   */
  private trimKeys(now: number): void {
    let excess = this.keyed.size - IDEMPOTENCY_MAX_KEYS * 0.9;
    for (const [key, entry] of this.keyed) {
      if (excess <= 0 && entry.at > now - IDEMPOTENCY_TTL_MS) break;
      this.keyed.delete(key);
      excess--;
    }
  }

  private approval(id: string): LocalApproval {
    const approval = this.approvals.get(id);
    if (!approval) throw new AirlockUnavailableError(`no approval ${id}`, { refused: true });
    return approval;
  }

  private expire(approval: LocalApproval): void {
    if (approval.state.status === 'pending' && Date.now() >= approval.expiresAt) approval.state.status = 'expired';
  }

  private audit(record: Record<string, unknown>): void {
    if (this.auditFd === undefined) return;
    writeSync(this.auditFd, `${JSON.stringify({ at: Date.now(), ...record })}\n`);
  }

  /**
   * The decision record, on every call's path: the same JSON line `audit` would write, built
   * without copying the record into a new object, with the identity part serialised once.
   */
  private auditDecision(id: string, environment: string, call: ToolCall, decision: AirlockDecision, idempotencyKey: string | undefined, claim: string | undefined): void {
    if (this.auditFd === undefined) return;
    this.identityJson ??= `,"agent":${JSON.stringify(this.options.agent)},"role":${JSON.stringify(this.options.role)},"environment":${JSON.stringify(environment)}`;
    let key = idempotencyKey === undefined ? '' : `,"idempotencyKey":${JSON.stringify(idempotencyKey)}`;
    if (claim !== undefined) key += `,"claim":${JSON.stringify(claim)}`;
    writeSync(this.auditFd, `{"at":${Date.now()},"event":"decision","id":"${id}"${this.identityJson},"call":${JSON.stringify(call)},"decision":${JSON.stringify(decision)}${key}}\n`);
  }
}
