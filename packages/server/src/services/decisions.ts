import { performance } from 'node:perf_hooks';
import { causeOf } from './refusal-cause.js';
import { canonicalJson, decisionRisk, sha256Hex, type Decision, type DecisionRequest } from '@airlock/core';
import type { Clock } from '../clock.js';
import { AirlockError } from '../errors.js';
import { newId } from '../ids.js';
import type { Metrics } from '../metrics.js';
import type { AuditInput } from '../audit/record.js';
import type { AuditEntry, AuditWriter } from '../audit/writer.js';
import type { StoreWrite, Store } from '../store/store.js';
import type { AgentIdentity } from './agents.js';
import type { ApprovalService, Call } from './approvals.js';
import { ticketOf, type ApprovalTicket, type ApprovalView } from './approval-view.js';
import type { DecisionEvent, EventBus } from './events.js';
import type { PolicyService } from './policies.js';
import type { ShadowService } from './shadow.js';
import type { PauseService } from './pauses.js';
import { KeyedLock, type Locks } from './keyed-lock.js';

/** The core decision plus its id and, for `require_approval`, the approval it opened. */
export interface DecisionResponse extends Decision {
  id: string;
  /** When the server decided (its clock is authoritative). */
  at: string;
  /** The decision's approval route, with the approval it opened. */
  approval?: ApprovalTicket;
  /** Answered from an Idempotency-Key: this is the stored decision `replayOf`, not a new one. */
  replay?: true;
  replayOf?: string;
  /**
   * Replays only: when the call this decision allows started (for an approval: when it was
   * redeemed), or null when it has not run. A decision authorizes one run.
   */
  ranAt?: string | null;
  /** The run this request claimed (`Airlock-Claim`): the caller may start the call now, once. */
  claim?: { id: string; at: string };
  /** A new decision for a key whose decision had already run (a new call with a repeated id). */
  repeatOf?: string;
  /** The policy records this tool's result with its execution outcome (`recordResult: true`): the SDK sends it. */
  recordResult?: true;
}

/** What a keyed decide asks beyond the decision (`POST /v1/decide` headers). */
export interface DecideOptions {
  /**
   * `Airlock-Claim`: the caller starts the call if the answer allows it; the id of this attempt. A
   * fresh allow is claimed by it; a replayed allow is claimed if no attempt claimed it before; one
   * already run is refused (`already_ran`). The same id again (a lost answer retried) gets the same answer.
   */
  claim?: string | undefined;
  /**
   * `Airlock-Repeat: decide`: a key whose decision already ran names a new call (a framework
   * that repeats tool call ids): decide it afresh (audited, counted) instead of answering the old one.
   */
  repeat?: 'decide' | undefined;
}

export interface DecideOutcome {
  response: DecisionResponse;
  /** False when the audit record could not be written: the response is then a `store_unavailable` block. */
  durable: boolean;
  /** True when an earlier response was returned for the same Idempotency-Key. */
  replayed: boolean;
}

/** The key a decision is stored under, and the hash of the call it was first used for. */
interface Idempotency {
  key: string;
  requestHash: string;
}

/**
 * POST /v1/decide without the HTTP: identity from the key, the call from the body, the clock from
 * the server. The decision is returned only once its audit record (and its approval) is durable.
 */
export class DecisionService {
  /** Keyed decides, one at a time per agent and key in this process. */
  private readonly keyLock = new KeyedLock();
  /** Edge reports being recorded, by agent and report id: a resend racing its original waits for it. */
  private readonly edgeInflight = new Map<string, Promise<EdgeVerdict>>();

  constructor(
    private readonly store: Store,
    private readonly writer: AuditWriter,
    private readonly policies: PolicyService,
    private readonly approvals: ApprovalService,
    private readonly events: EventBus,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
    /** A candidate version deciding beside the active one (shadow mode), enforcing nothing. */
    private readonly shadow?: ShadowService,
    /** The kill switch: checked first, before any policy. */
    private readonly pauses?: PauseService,
    private readonly logError?: (message: string) => void,
    /** Claims of stored decisions, one at a time per key across instances (Redis when shared). */
    private readonly claimLocks: Locks = new KeyedLock(),
  ) {}

  async decide(identity: AgentIdentity, call: Call, idempotencyKey?: string, options: DecideOptions = {}): Promise<DecideOutcome> {
    if (idempotencyKey === undefined) return this.run(identity, call, undefined);
    const requestHash = sha256Hex(
      canonicalJson({ tool: call.tool, args: call.args, session: call.session ?? null, ...(call.sessionAttributes ? { sessionAttributes: call.sessionAttributes } : {}) }),
    );
    // One request per key at a time in this process: a concurrent duplicate reads the first one's
    // row once it is committed, and then claims (or is refused) on its own account.
    return this.keyLock.run(slotOf(identity.agent, idempotencyKey), () => this.keyed(identity, call, { key: idempotencyKey, requestHash }, options));
  }

  /** A keyed decide: the stored decision for the key, or a new one stored with it. */
  private async keyed(identity: AgentIdentity, call: Call, idempotency: Idempotency, options: DecideOptions, locked = false): Promise<DecideOutcome> {
    const stored = await this.store.getIdempotency(identity.agent, idempotency.key);
    if (!stored) return this.run(identity, call, { ...idempotency, claim: options.claim });
    if (stored.request_hash !== idempotency.requestHash) {
      // A repeated id for another call (the framework's approval flows always present the same
      // call): with `repeat: decide` a new call, decided afresh in place of the stored one.
      if (options.repeat !== 'decide' || stored.request_hash === EDGE_REPORT) throw new AirlockError('idempotency_key_reused', 'this Idempotency-Key was already used for a different call');
      return this.run(identity, call, { ...idempotency, claim: options.claim, replaces: stored.decision_id });
    }
    const response = JSON.parse(stored.response) as DecisionResponse;
    let ranAt = response.effect === 'allow' ? stored.claimed_at : null;
    if (response.approval) {
      // For an approval, redeeming it is the claim: single-use already.
      const approval = await this.approvals.get(response.approval.id, { agent: identity.agent });
      response.approval = { ...response.approval, status: approval.status };
      if (approval.redeemedAt !== null) ranAt = Date.parse(approval.redeemedAt);
    }
    const replay: DecisionResponse = { ...response, replay: true, replayOf: response.id, ranAt: ranAt === null ? null : new Date(ranAt).toISOString() };
    const answer = (extra: Partial<DecisionResponse> = {}): DecideOutcome => ({ response: { ...replay, ...extra }, durable: true, replayed: true });
    if (ranAt !== null) {
      // The same attempt asking again (its answer was lost): the same answer, nothing new.
      if (options.claim !== undefined && stored.claim_token === options.claim) return answer({ claim: { id: options.claim, at: replay.ranAt as string } });
      if (options.repeat === 'decide') return this.run(identity, call, { ...idempotency, claim: options.claim, replaces: stored.decision_id });
      if (options.claim !== undefined) return this.refuseRun(identity, call, idempotency.key, response, ranAt, options.claim);
      return answer();
    }
    if (response.effect !== 'allow' || options.claim === undefined) return answer();
    // Claiming a stored allow: read, check and write as one step across instances.
    if (!locked) return this.claimLocks.run(`claim:${slotOf(identity.agent, idempotency.key)}`, () => this.keyed(identity, call, idempotency, options, true));
    const at = this.clock.now();
    const claim = options.claim;
    await this.writer.append([
      {
        record: {
          type: 'call.started',
          at,
          actor: `agent:${identity.agent}`,
          agent: identity.agent,
          tool: call.tool,
          rule: response.rule,
          data: { decision: response.id, claim, idempotencyKey: idempotency.key },
        },
        writes: [{ kind: 'idempotency.claim', agent: identity.agent, key: idempotency.key, decisionId: response.id, token: claim, at }],
      },
    ]);
    const claimedAt = new Date(at).toISOString();
    return answer({ ranAt: claimedAt, claim: { id: claim, at: claimedAt } });
  }

  /**
   * A second run of a decision that already ran: refused, and the attempt is audited
   * (`call.refused`) and counted (`airlock_runs_refused_total`).
   */
  private async refuseRun(identity: AgentIdentity, call: Call, key: string, response: DecisionResponse, ranAt: number, claim: string): Promise<never> {
    const firstRunAt = new Date(ranAt).toISOString();
    await this.writer.append([
      {
        record: {
          type: 'call.refused',
          at: this.clock.now(),
          actor: `agent:${identity.agent}`,
          agent: identity.agent,
          tool: call.tool,
          effect: 'block',
          rule: response.rule,
          data: {
            code: 'already_ran',
            decision: response.id,
            firstRunAt,
            claim,
            idempotencyKey: key,
            request: { tool: call.tool, args: call.args, session: call.session ?? null },
          },
        },
      },
    ]);
    this.metrics.recordRefusedRun(identity.agent);
    throw new AirlockError('already_ran', `this ${call.tool} call already ran at ${firstRunAt} (decision ${response.id}); a decision allows one run`, {
      decisionId: response.id,
      firstRunAt,
    });
  }

  /**
   * Edge mode: records the allows an SDK answered in-process, each re-checked with the server's own
   * copy of the version the SDK used. The call already ran, so the record is written whatever the
   * verdict; a disagreement (a forged or stale report) is marked `edge.agreed: false` in the record.
   *
   * Exactly once per report id: an SDK resends a batch whose answer it did not get, so each record
   * is stored with an idempotency row (`edge:<id>`, same transaction), a report already stored is
   * answered with its first verdict, and one still being recorded (a resend racing the original)
   * waits for it.
   */
  async recordEdge(identity: AgentIdentity, reports: readonly EdgeReport[]): Promise<{ recorded: number; verdicts: EdgeVerdict[] }> {
    const slot = (id: string) => slotOf(identity.agent, id);
    const waiting = new Map<string, Promise<EdgeVerdict>>();
    const candidates = new Map<string, EdgeReport>();
    for (const report of reports) {
      const pending = this.edgeInflight.get(slot(report.id));
      if (pending) waiting.set(report.id, pending);
      else if (!candidates.has(report.id)) candidates.set(report.id, report);
    }
    const stored = candidates.size === 0 ? [] : await this.store.getIdempotencies(identity.agent, [...candidates.keys()].map(edgeKey));
    // Only rows this path wrote count: an agent's own Idempotency-Key spelled `edge:…` on a decide
    // must not pass for a recorded report (its record would then be missing).
    const known = new Map(stored.filter((row) => row.request_hash === EDGE_REPORT).map((row) => [row.key, JSON.parse(row.response) as EdgeVerdict]));
    const fresh: EdgeReport[] = [];
    for (const report of candidates.values()) {
      if (known.has(edgeKey(report.id))) continue;
      // Another request may have started recording it during the lookup: wait for that one.
      const pending = this.edgeInflight.get(slot(report.id));
      if (pending) waiting.set(report.id, pending);
      else fresh.push(report);
    }
    if (fresh.length > 0) {
      const recorded = this.recordFreshEdge(identity, fresh);
      for (const [i, report] of fresh.entries()) {
        const verdict = recorded.then((all) => all[i] as EdgeVerdict);
        verdict.catch(() => undefined);
        this.edgeInflight.set(slot(report.id), verdict);
        waiting.set(report.id, verdict);
      }
      recorded
        .finally(() => {
          for (const report of fresh) this.edgeInflight.delete(slot(report.id));
        })
        .catch(() => undefined);
    }
    const verdicts = await Promise.all(reports.map((report) => known.get(edgeKey(report.id)) ?? (waiting.get(report.id) as Promise<EdgeVerdict>)));
    return { recorded: fresh.length, verdicts };
  }

  private async recordFreshEdge(identity: AgentIdentity, reports: readonly EdgeReport[]): Promise<EdgeVerdict[]> {
    const now = this.clock.now();
    const active = this.policies.active();
    const verdicts: EdgeVerdict[] = [];
    const entries: AuditEntry[] = [];
    const published: { id: string; at: number; call: Call; decision: Decision; entry: number }[] = [];
    for (const report of reports) {
      // The SDK's clock is trusted to within ten minutes of the server's, never ahead of it.
      const at = Math.min(now, Math.max(report.at, now - 10 * 60_000));
      if (report.refused) {
        entries.push(edgeRefusal(identity, report, report.refused, at, now));
        verdicts.push({ id: report.id, agreed: true, verified: true });
        this.metrics.recordRefusedRun(identity.agent);
        continue;
      }
      const request = engineRequest(identity, report.call, at);
      const verified = active !== undefined && active.version === report.version;
      const own = verified ? active.engine.statelessDecision(request) : undefined;
      const agreed = own?.effect === 'allow';
      const decision: Decision = own && agreed
        ? own
        : {
            effect: 'allow',
            rule: report.rule,
            reason: 'allowed in-process by an edge SDK',
            decidedBy: 'rule',
            matched: [],
            limits: [],
            risk: decisionRisk(0, 'low', 'allow', !agreed),
            flagged: !agreed,
            policy: { bundle: active?.row.bundle ?? '', version: report.version, policies: [] },
          };
      const record = decisionRecord({ id: report.id, at, identity, call: report.call, decision });
      record.data.edge = { receivedAt: new Date(now).toISOString(), verified, agreed, ...(own && !agreed ? { server: { effect: own.effect, rule: own.rule } } : {}) };
      const verdict: EdgeVerdict = { id: report.id, agreed, verified };
      const remembered: StoreWrite = {
        kind: 'idempotency.insert',
        row: { agent: identity.agent, key: edgeKey(report.id), request_hash: EDGE_REPORT, decision_id: report.id, response: JSON.stringify(verdict), created_at: now },
      };
      published.push({ id: report.id, at, call: report.call, decision, entry: entries.length });
      entries.push({ record, writes: [remembered] });
      verdicts.push(verdict);
      // Shadow mode sees edge traffic too (a candidate that limits reads would otherwise flip
      // nothing for an edge fleet): when the server re-checked the call, against its own decision.
      const flip = agreed ? this.shadow?.observe(request, decision, report.id) : undefined;
      if (flip) entries.push(flip);
    }
    const sealed = await this.writer.append(entries);
    for (const { id, at, call, decision, entry } of published) {
      this.metrics.recordDecision(identity.agent, decision, undefined);
      if (this.events.hasSubscribers('decision')) {
        this.events.publish({ type: 'decision', data: { ...decisionEvent(id, sealed[entry]?.seq ?? 0, new Date(at).toISOString(), identity, call, decision), edge: true } });
      }
    }
    return verdicts;
  }

  /**
   * A new decision. With a key it is stored under it (`replaces`: in place of a decision that
   * already ran); with a claim, an allow is claimed by it: its decision record is its start record.
   */
  private async run(identity: AgentIdentity, call: Call, idempotency: (Idempotency & { claim?: string | undefined; replaces?: string }) | undefined): Promise<DecideOutcome> {
    const started = performance.now();
    const at = this.clock.now();
    const active = this.policies.active();
    const request = engineRequest(identity, call, at);
    // The kill switch first, synchronously after `at` was read: once a pause is applied, no call
    // stamped later is allowed (docs/kill-switch.md).
    const policyRef = () => (active ? { bundle: active.row.bundle, version: active.version, policies: [] } : { bundle: '', version: 0, policies: [] });
    let paused = this.pauses?.check(identity, call.tool);
    let decision = paused ? (this.pauses as PauseService).decision(paused, policyRef()) : active ? await active.engine.decide(request) : noPolicy();
    if (!paused && decision.effect !== 'block' && this.pauses) {
      // Again once the limit store has answered: a pause applied meanwhile holds this call too
      // (its limits stay consumed, which over-counts: the safe side).
      paused = this.pauses.check(identity, call.tool);
      if (paused) decision = this.pauses.decision(paused, policyRef());
    }
    const id = newId('dec');
    const atIso = new Date(at).toISOString();

    let approval: ApprovalView | undefined;
    const entries: AuditEntry[] = [];
    const writes: StoreWrite[] = [];
    const decisionEntry: AuditEntry = { record: decisionRecord({ id, at, identity, call, decision, idempotencyKey: idempotency?.key }), writes };
    const claimed = idempotency?.claim !== undefined && decision.effect === 'allow' ? idempotency.claim : undefined;
    if (claimed !== undefined) decisionEntry.record.data.claim = claimed;
    if (idempotency?.replaces !== undefined) decisionEntry.record.data.repeatOf = idempotency.replaces;
    entries.push(decisionEntry);
    const flip = paused ? undefined : this.shadow?.observe(request, decision, id);
    if (flip) entries.push(flip);
    if (decision.effect === 'require_approval') {
      const opened = this.approvals.open({ decisionId: id, identity, call, decision, at });
      approval = opened.view;
      decisionEntry.record.data.approval = approval.id;
      entries.push(opened.entry);
    }
    // The engine's route becomes the route plus the approval it opened.
    const response: DecisionResponse = { id, at: atIso, ...decision, approval: approval && ticketOf(approval) };
    if (idempotency) {
      const row = { agent: identity.agent, key: idempotency.key, request_hash: idempotency.requestHash, decision_id: id, response: JSON.stringify(response), created_at: at };
      const claim = claimed === undefined ? {} : { claimed_at: at, claim_token: claimed };
      writes.push(idempotency.replaces === undefined ? { kind: 'idempotency.insert', row: { ...row, ...claim } } : { kind: 'idempotency.replace', row: { ...row, ...claim }, replaces: idempotency.replaces });
    }
    if (claimed !== undefined) response.claim = { id: claimed, at: atIso };
    if (decision.effect !== 'block' && active?.recordResults.has(`${identity.role}\u0000${call.tool}`)) response.recordResult = true;
    if (idempotency?.replaces !== undefined) response.repeatOf = idempotency.replaces;

    let seq: number;
    try {
      const sealed = await this.writer.append(entries);
      seq = sealed[0]?.seq ?? 0;
    } catch (error) {
      return { response: unavailable(id, atIso, decision, error), durable: false, replayed: false };
    }
    this.metrics.recordDecision(identity.agent, decision, (performance.now() - started) / 1000);
    if (this.events.hasSubscribers('decision')) {
      this.events.publish({ type: 'decision', data: { ...decisionEvent(id, seq, atIso, identity, call, decision), ...(approval ? { approvalId: approval.id, approvalStatus: approval.status } : {}) } });
    }
    if (approval) this.approvals.published(approval);
    if (decision.effect === 'block' && this.pauses && !paused) {
      this.pauses.observeBlock(identity, decision).catch((error: unknown) => this.logError?.(`quarantine check failed: ${String(error)}`));
    }
    return { response, durable: true, replayed: false };
  }
}

/** A call an edge SDK allowed in-process (docs: packages/sdk/README.md, edge mode), as it reports it. */
export interface EdgeReport {
  /** The SDK's id of the decision. */
  id: string;
  /** When the SDK decided (epoch ms). */
  at: number;
  call: Call;
  /** The policy version the SDK decided with, and the rule that allowed the call. */
  version: number;
  rule: string | null;
  /** A second run of a local allow the SDK refused: recorded as `call.refused`, not as a decision. */
  refused?: { code: 'already_ran'; decision: string; firstRunAt: string } | undefined;
}

/** The audit record of a second run an edge SDK refused in-process, remembered as its report. */
function edgeRefusal(identity: AgentIdentity, report: EdgeReport, refused: NonNullable<EdgeReport['refused']>, at: number, now: number): AuditEntry {
  const verdict: EdgeVerdict = { id: report.id, agreed: true, verified: true };
  return {
    record: {
      type: 'call.refused',
      at,
      actor: `agent:${identity.agent}`,
      agent: identity.agent,
      tool: report.call.tool,
      effect: 'block',
      rule: report.rule,
      data: {
        code: refused.code,
        decision: refused.decision,
        firstRunAt: refused.firstRunAt,
        edge: { id: report.id, receivedAt: new Date(now).toISOString() },
        request: { tool: report.call.tool, args: report.call.args, session: report.call.session ?? null },
      },
    },
    writes: [
      {
        kind: 'idempotency.insert',
        row: { agent: identity.agent, key: edgeKey(report.id), request_hash: EDGE_REPORT, decision_id: report.id, response: JSON.stringify(verdict), created_at: now },
      },
    ],
  };
}

/** How the server judged one edge report. */
export interface EdgeVerdict {
  id: string;
  /** The server's own stateless decision with the same version agreed that it is an allow. */
  agreed: boolean;
  /** False when the version the SDK used is no longer active, so it could not be re-checked. */
  verified: boolean;
}

/** Where a call with a key (or an edge report) being decided waits, per agent. */
function slotOf(agent: string, key: string): string {
  return `${agent}\u0000${key}`;
}

/** `request_hash` of the idempotency rows of edge reports (a decide's is a SHA-256, never this). */
const EDGE_REPORT = 'edge-report';

/** The idempotency key under which an edge report is remembered (beside the agents' own keys). */
function edgeKey(id: string): string {
  return `edge:${id}`;
}

/** What the engine decides: the call with the identity its key fixes, at the server's time. */
function engineRequest(identity: AgentIdentity, call: Call, at: number): DecisionRequest & { at: number } {
  return {
    agent: identity.agent,
    role: identity.role,
    environment: identity.environment,
    tool: call.tool,
    args: call.args,
    at,
    ...(call.session === undefined ? {} : { session: call.session }),
    ...(call.sessionAttributes === undefined ? {} : { sessionAttributes: call.sessionAttributes }),
  };
}

/** The live `decision` event of an audited decision (the dashboard's feed and charts). */
function decisionEvent(id: string, seq: number, at: string, identity: AgentIdentity, call: Call, decision: Decision): DecisionEvent {
  return {
    id,
    seq,
    at,
    agent: identity.agent,
    role: identity.role,
    environment: identity.environment,
    tool: call.tool,
    args: call.args,
    effect: decision.effect,
    rule: decision.rule,
    reason: decision.reason,
    risk: decision.risk,
    cause: causeOf(decision),
    policyVersion: decision.policy.version,
  };
}

/**
 * The audit record of a decision: the call as the agent made it, its identity from the key, and
 * the whole decision. Replay and simulation read decisions back from this shape (`recordedCall`).
 */
export function decisionRecord(input: {
  id: string;
  at: number;
  identity: AgentIdentity;
  call: Call;
  decision: Decision;
  idempotencyKey?: string | undefined;
}): AuditInput {
  const { id, at, identity, call, decision, idempotencyKey } = input;
  return {
    type: 'decision',
    at,
    actor: `agent:${identity.agent}`,
    agent: identity.agent,
    tool: call.tool,
    effect: decision.effect,
    rule: decision.rule,
    // Keys in sorted order, as the record is written (canonical JSON): already sorted, they are not sorted again.
    data: {
      decision,
      id,
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      identity: recordIdentity(identity),
      request: {
        args: call.args,
        ...(call.intent === undefined ? {} : { intent: call.intent }),
        session: call.session ?? null,
        ...(call.sessionAttributes === undefined ? {} : { sessionAttributes: call.sessionAttributes }),
        tool: call.tool,
      },
    },
  };
}

/**
 * A decision record's `identity`, one deeply frozen object per key's identity (the key cache
 * hands out the same AgentIdentity for every call): canonical JSON writes a deeply frozen value
 * once and reuses its text. Checked against the identity on every use, so a changed one is rebuilt.
 */
const RECORD_IDENTITY = new WeakMap<AgentIdentity, Readonly<AgentIdentity>>();

function recordIdentity(identity: AgentIdentity): Readonly<AgentIdentity> {
  const known = RECORD_IDENTITY.get(identity);
  if (known && known.agent === identity.agent && known.environment === identity.environment && known.keyId === identity.keyId && known.role === identity.role) return known;
  const made = Object.freeze({ agent: identity.agent, environment: identity.environment, keyId: identity.keyId, role: identity.role });
  RECORD_IDENTITY.set(identity, made);
  return made;
}

function noPolicy(): Decision {
  const message = 'no policy version is active';
  return {
    effect: 'block',
    rule: null,
    reason: message,
    decidedBy: 'error',
    matched: [],
    limits: [],
    risk: decisionRisk(0, 'low', 'block', false),
    flagged: false,
    policy: { bundle: '', version: 0, policies: [] },
    error: { code: 'no_policy', message },
  };
}

/** What a caller gets when the audit record could not be made durable: a block, never the decision. */
function unavailable(id: string, at: string, decision: Decision, error: unknown): DecisionResponse {
  const message = AirlockError.isInstance(error) ? error.message : 'audit store unavailable';
  return {
    id,
    at,
    effect: 'block',
    rule: null,
    reason: `${message}; the call is blocked`,
    decidedBy: 'error',
    matched: [],
    limits: [],
    risk: decisionRisk(0, 'low', 'block', false),
    flagged: false,
    policy: decision.policy,
    error: { code: 'store_unavailable', message },
  };
}
