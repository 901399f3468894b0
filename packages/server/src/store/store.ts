import type { PreparedEntry, Sealed } from '../audit/record.js';
import type { ArgFilter } from '../audit/arg-index.js';
import type { RefusalCause } from '../services/refusal-cause.js';
import type {
  AgentRow,
  ApiKeyRow,
  ApprovalRow,
  PauseRow,
  AuditRow,
  AuditArchiveRow,
  AuditForwarderRow,
  IdempotencyRow,
  NotificationDeliveryRow,
  OutcomeRow,
  PolicyActivationRow,
  PolicyVersionRow,
  OidcLoginRow,
  SessionRow,
  UserIdentityRow,
  UserRow,
  UserTokenRow,
} from './schema.js';

/**
 * Persistence for the control plane. Promise-returning so an implementation may talk to a remote
 * database; every implementation runs the same Kysely queries.
 *
 * Every audited change goes through `commit`: the audit records of a batch and the state changes
 * they describe are written in ONE transaction, so the trail and the state never disagree.
 */
export interface Store {
  /**
   * Seals the records onto the stored chain head and commits them with the writes they describe,
   * in one transaction; all or nothing. The head is read inside that transaction, so the chain
   * cannot fork and a failed batch leaves nothing for the next one to build on.
   */
  commit(entries: readonly PreparedEntry[]): Promise<Sealed[]>;
  /** Answers when the database does; for readiness. */
  ping(): Promise<void>;
  close(): Promise<void>;

  /** Records matching the filter, newest first, with seq below `beforeSeq`. */
  queryAudit(filter: AuditFilter, page: AuditPage): Promise<AuditRow[]>;
  /**
   * A page of a search someone asked for (the audit API): as `queryAudit`, except that a filter
   * no single index serves examines at most `scanLimit` records below the cursor. When that cut
   * the range and the page is not full, `resumeBefore` is where the next page starts (more may
   * match below it); undefined when the page reached the oldest record. A page also holds no more
   * than about 8 MiB of payload: `truncated` when that cut it, and the next page then starts below
   * its last record.
   */
  searchAudit(filter: AuditFilter, page: AuditPage & { scanLimit: number }): Promise<{ rows: AuditRow[]; resumeBefore: number | undefined; truncated: boolean }>;
  /**
   * Records with seq above `afterSeq` (and at most `throughSeq` when given), oldest first
   * (verification, export, replay, streams): at most `limit`, and no more than about 8 MiB of
   * payload, so a page may hold fewer than `limit` records while more follow. Only an empty page
   * means there is nothing more.
   */
  auditAfter(afterSeq: number, limit: number, filter?: AuditFilter, throughSeq?: number): Promise<AuditRow[]>;
  /** The newest record's seq; 0 when the trail is empty. */
  newestSeq(): Promise<number>;
  /** The records with these seqs (those that exist), in seq order. */
  auditRecords(seqs: readonly number[]): Promise<AuditRow[]>;
  /**
   * The trail's base: the newest archived prefix (migration 018), whose last record the first
   * record kept links to; undefined when nothing was ever archived (the trail starts at genesis).
   */
  auditBase(): Promise<AuditArchiveRow | undefined>;

  /**
   * Takes or renews the forwarder's lease for `holder` until `untilMs` (created at seq 0 on first
   * use): only when it is free, expired at `nowMs`, or already this holder's. Answers the row when
   * `holder` holds the lease afterwards, undefined when another instance does.
   */
  leaseAuditForwarder(name: string, holder: string, nowMs: number, untilMs: number): Promise<AuditForwarderRow | undefined>;
  /**
   * Records that the receiver acknowledged everything up to `seq` and renews the lease, only if
   * `holder` still holds it; answers whether it did (false: another instance took over).
   */
  ackAuditForwarder(name: string, holder: string, seq: number, nowMs: number, untilMs: number): Promise<boolean>;
  /** Gives the lease up (shutdown), so another instance or the next start takes over at once. */
  releaseAuditForwarder(name: string, holder: string): Promise<void>;
  getAuditForwarder(name: string): Promise<AuditForwarderRow | undefined>;

  /**
   * The decision records among `refs` (each found by its time, then its id: the time is indexed,
   * the id is inside the payload), with the approval each opened.
   */
  findDecisions(refs: readonly { id: string; at: number }[]): Promise<DecisionRef[]>;
  /** The recorded outcomes of these decisions. */
  getOutcomes(decisionIds: readonly string[]): Promise<OutcomeRow[]>;
  /** The outcome of one decision, or of the call one approval allowed. */
  outcomeOf(filter: { decisionId?: string; approvalId?: string }): Promise<OutcomeRow | undefined>;
  /** Agents that have reported an outcome, each with its earliest reported decision's time (orphans count from there). */
  reportingAgents(agent?: string): Promise<{ agent: string; since: number }[]>;
  /** The agent's allows decided in [fromMs, toMs) with no outcome, newest first. */
  unreportedAllows(agent: string, fromMs: number, toMs: number, limit: number): Promise<DecisionRef[]>;
  /** The agent's approvals redeemed in [fromMs, toMs) whose call never reported finishing, newest first. */
  unreportedRedemptions(agent: string, fromMs: number, toMs: number, limit: number): Promise<ApprovalRow[]>;
  /** The agent's allowed calls reported started before `startedBefore` and never finished. */
  unfinishedOutcomes(agent: string, startedBefore: number, limit: number): Promise<OutcomeRow[]>;
  /**
   * When the agent's earliest call that is not unaccounted yet, but would be once the grace period
   * passes it, was made (epoch ms): of its allows decided, approvals redeemed and calls (without
   * approval) started at or after `fromMs`, those with no finished outcome. Undefined when none.
   */
  earliestPendingCall(agent: string, fromMs: number): Promise<number | undefined>;
  /** Outcomes reported more than once (the later ones refused), newest first. */
  reportedTwice(agent: string | undefined, limit: number): Promise<OutcomeRow[]>;
  /** Counts outcomes refused because one was already recorded, once per id listed (housekeeping, not audited). */
  recordDuplicateOutcomes(decisionIds: readonly string[]): Promise<void>;
  /** Finished outcomes reported in range (server time), counted per bucket (0-based from `range.fromMs`), agent, tool and status; ordered by bucket. */
  outcomeCounts(range: TimeRange, bucketMs: number): Promise<OutcomeCountRow[]>;
  /** Finished outcomes in range counted by agent, tool and status (failure rates). */
  outcomeRates(range: TimeRange, filter?: { agent?: string }): Promise<OutcomeRate[]>;

  getAgent(id: string): Promise<AgentRow | undefined>;
  listAgents(): Promise<AgentRow[]>;
  getApiKey(id: string): Promise<ApiKeyRow | undefined>;
  listApiKeys(agentId: string): Promise<ApiKeyRow[]>;

  getUserByName(username: string): Promise<UserRow | undefined>;
  listUsers(): Promise<UserRow[]>;
  /** The session and its user, if both exist. */
  getSession(idHash: string): Promise<{ session: SessionRow; user: UserRow } | undefined>;
  deleteSessionsExpiredBy(atMs: number): Promise<void>;
  /** The user an identity provider's person (issuer, subject) signed in as before, if any. */
  getUserByIdentity(issuer: string, subject: string): Promise<UserRow | undefined>;
  /** Stores a sign-in started with the identity provider (not audited: the sign-in is, when it ends). */
  putOidcLogin(row: OidcLoginRow): Promise<void>;
  /**
   * Takes the waiting sign-in whose state hashes to `stateHash`, once: answers it to the one caller
   * whose conditional update took it (unexpired at `atMs`), undefined to every other caller.
   */
  takeOidcLogin(stateHash: string, atMs: number): Promise<OidcLoginRow | undefined>;
  deleteOidcLoginsExpiredBy(atMs: number): Promise<void>;
  /** A person's API token and its person, if both exist. */
  getUserToken(id: string): Promise<{ token: UserTokenRow; user: UserRow } | undefined>;
  /** API tokens with their person's username, oldest first: one person's, or everyone's. */
  listUserTokens(filter: { userId?: string }): Promise<(UserTokenRow & { username: string })[]>;
  /** Records when a token was last used (housekeeping, not audited). */
  touchUserToken(id: string, atMs: number): Promise<void>;

  getApproval(id: string): Promise<ApprovalRow | undefined>;
  /** Approvals in the filter's order (`sort`), after the position `after` (the sort key and id of the last row of the previous page). */
  listApprovals(filter: ApprovalFilter, page: { after?: { at: number; id: string }; limit: number }): Promise<ApprovalRow[]>;
  /** Pending or approved (unredeemed) approvals whose expiry, or pending ones whose tier deadline, is at or before `atMs`. */
  approvalsDueBy(atMs: number, limit: number): Promise<ApprovalRow[]>;
  /** The earliest expiry or tier deadline of any open approval; undefined when none is open. */
  nextApprovalDue(): Promise<number | undefined>;
  /** What approval statistics are computed from: approvals created in [fromMs, toMs), optionally of one rule. */
  approvalOutcomes(filter: { fromMs: number; toMs: number; rule?: string }): Promise<ApprovalOutcomeRow[]>;
  countPendingApprovals(atMs: number, filter?: DecisionFilter): Promise<number>;

  getIdempotency(agent: string, key: string): Promise<IdempotencyRow | undefined>;
  /** The stored rows among `keys` (one query). */
  getIdempotencies(agent: string, keys: readonly string[]): Promise<IdempotencyRow[]>;
  deleteIdempotencyBefore(atMs: number): Promise<void>;

  /**
   * Decision counts per effect in buckets of `bucketMs` counted from `range.fromMs` (bucket 0),
   * per agent when `byAgent`; only the agent's when `agent` is given.
   */
  decisionBuckets(range: TimeRange, bucketMs: number, options?: { byAgent?: boolean } & DecisionFilter): Promise<DecisionBucket[]>;
  /** Decision counts per bucket of `bucketMs` from `range.fromMs`, agent, tool, effect and deciding rule (anomaly detection). */
  decisionCounts(range: TimeRange, bucketMs: number): Promise<DecisionCountRow[]>;
  /** Blocked decisions of one agent at or after `fromMs` (quarantine). */
  countBlocked(agent: string, fromMs: number): Promise<number>;
  /** Pauses, newest first: only those not resumed when `active`. */
  listPauses(filter: { active?: boolean }, limit: number): Promise<PauseRow[]>;
  getPause(id: string): Promise<PauseRow | undefined>;
  /** The most frequent values of `column` among the decisions in range, with the given effect / agent. */
  topDecisionValues(range: TimeRange, column: 'tool' | 'rule', filter: { effect?: string } & DecisionFilter, limit: number): Promise<ValueCount[]>;
  /** Decision counts per environment (the agent's registered one) and effect. */
  decisionsByEnvironment(range: TimeRange, filter?: DecisionFilter): Promise<EnvironmentCount[]>;
  /** Blocked decisions in range counted by deciding rule, `decidedBy` and error code (refusal causes). */
  blockedCauses(range: TimeRange, filter?: DecisionFilter): Promise<CauseCount[]>;
  /** Status of each of these approvals that exists (primary-key lookups). */
  approvalStatuses(ids: readonly string[]): Promise<{ id: string; status: string }[]>;
  /** The pending approval waiting longest (unexpired at `atMs`). */
  oldestPendingApproval(atMs: number, filter?: DecisionFilter): Promise<ApprovalRow | undefined>;
  /** Time of the agent's newest decision, epoch ms. */
  lastDecisionAt(agent: string): Promise<number | undefined>;
  /**
   * Approvals approved or denied by a person in range and the median time from request to that
   * decision; `bots`: those a bot account decided, and their median, counted apart; `automatic`:
   * those the system resolved (a tier timing out with `allow` or `block`).
   */
  approvalResolution(range: TimeRange, filter?: DecisionFilter): Promise<ApprovalResolution>;
  /** Delivery attempts, newest first; of one approval when given. */
  listDeliveries(filter: { approvalId?: string }, limit: number): Promise<NotificationDeliveryRow[]>;
  /** Appends one delivery attempt to the log (not audited: the log is the record). */
  recordDelivery(row: NotificationDeliveryRow): Promise<void>;

  listPolicyVersions(): Promise<PolicyVersionRow[]>;
  getPolicyVersion(version: number): Promise<PolicyVersionRow | undefined>;
  /** Activations, newest first. */
  listPolicyActivations(limit: number): Promise<PolicyActivationRow[]>;
}

/** Which decisions a read counts: of one agent, tool, or the agents registered with a role or environment. */
export interface DecisionFilter {
  agent?: string | undefined;
  tool?: string | undefined;
  role?: string | undefined;
  environment?: string | undefined;
}

/** A decision record as outcomes refer to it. */
export interface DecisionRef {
  id: string;
  at: number;
  agent: string;
  tool: string;
  effect: string;
  rule: string | null;
  /** The approval a `require_approval` decision opened. */
  approvalId: string | null;
  /** The decision's audit record (its sequence number in the chain). */
  seq?: number;
}

export interface OutcomeCountRow {
  bucket: number;
  agent: string;
  tool: string;
  /** `succeeded` | `failed`. */
  status: string;
  count: number;
}

export interface OutcomeRate {
  agent: string;
  tool: string;
  status: string;
  count: number;
}

export interface CauseCount {
  rule: string | null;
  decidedBy: string | null;
  code: string | null;
  count: number;
}

/**
 * Whether a search can examine records without bound: a condition no index serves (rule,
 * effect, cause, role, environment: checked per record), several conditions, each served by an
 * index of its own, that may rarely meet (a busy agent and a rare tool: every one of the agent's
 * records read), or a time window (one of over 100,000 records is not turned into a seq range, and
 * the trail is walked from its newest record down to it). One agent, one tool, one type, or the
 * arguments at one path (the planner's cap bounds those) are read through their index.
 */
export function needsScanBound(filter: AuditFilter): boolean {
  if (filter.rule !== undefined || filter.effect !== undefined || filter.cause !== undefined || filter.role !== undefined || filter.environment !== undefined) return true;
  if (filter.fromMs !== undefined || filter.toMs !== undefined) return true;
  const paths = new Set((filter.args ?? []).map((arg) => arg.path)).size;
  // Only decisions have argument index rows: beside an argument condition, type=decision adds nothing to read.
  const type = filter.type !== undefined && !(paths > 0 && filter.type === 'decision');
  const served = [filter.agent !== undefined, filter.tool !== undefined, type, paths > 0].filter(Boolean).length;
  return served > 1 || paths > 1;
}

/** One page of a query of the audit trail. */
export interface AuditPage {
  beforeSeq?: number;
  limit: number;
  /**
   * Tests and the bench only: force one query plan ('lookup': time window as a seq range and
   * the sparsest argument field read as a set, whatever their size; 'walk': the trail walked
   * newest first, every argument probed per record; 'split': the newest `limit` records
   * of the range walked first, then the rest with the sparsest field read as a set). Default
   * 'auto' chooses by cheap bounded counts. Every plan answers the same records.
   */
  plan?: 'auto' | 'lookup' | 'walk' | 'split';
  /** searchAudit: at most this many characters of payload (default about 8 MiB); at least one record. */
  maxChars?: number;
}

export interface AuditFilter {
  /** Decision records of agents registered with this role / environment. */
  role?: string;
  environment?: string;
  /** Decision records with this cause (services/refusal-cause.ts). */
  cause?: RefusalCause;
  agent?: string;
  tool?: string;
  effect?: string;
  rule?: string;
  type?: string;
  /** Decision records whose call arguments match every one of these (the audit_args index). */
  args?: readonly ArgFilter[];
  /** Inclusive lower bound on `at`, epoch ms. */
  fromMs?: number;
  /** Exclusive upper bound on `at`, epoch ms. */
  toMs?: number;
}

/** `fromMs` inclusive, `toMs` exclusive, epoch ms. */
export interface TimeRange {
  fromMs: number;
  toMs: number;
}

export interface DecisionBucket {
  /** Index of the bucket, from 0 at the start of the range. */
  bucket: number;
  /** Set when counted per agent. */
  agent?: string;
  effect: string;
  count: number;
}

export interface ValueCount {
  value: string | null;
  count: number;
}

export interface EnvironmentCount {
  environment: string;
  effect: string;
  count: number;
}
export interface DecisionCountRow {
  bucket: number;
  agent: string;
  tool: string;
  effect: string;
  rule: string | null;
  count: number;
}

export interface ApprovalResolution {
  /** Decided by people. */
  resolved: number;
  medianMs: number | null;
  /** Decided by bot accounts: not in `resolved` nor in `medianMs`. */
  bots: { resolved: number; medianMs: number | null };
  automatic: number;
}

export type ApprovalOutcomeRow = Pick<
  ApprovalRow,
  'rule' | 'status' | 'created_at' | 'resolved_at' | 'resolved_by' | 'resolved_by_kind' | 'tier' | 'route' | 'edited_args' | 'agent' | 'role' | 'environment' | 'tool' | 'args'
>;

export interface ApprovalFilter {
  /** One status, or any of several (the inbox's resolved tab). */
  status?: string | readonly string[];
  agent?: string;
  tool?: string;
  rule?: string;
  /** Created at or after (inclusive), before (exclusive); epoch ms. */
  fromMs?: number;
  toMs?: number;
  /** The approval's call arguments match every one of these (evaluated on `args`; approvals are far fewer than decisions). */
  args?: readonly ArgFilter[];
  /** newest (default) / oldest: by creation; deadline: the soonest tier deadline or expiry first. */
  sort?: ApprovalSort;
}

export type ApprovalSort = 'newest' | 'oldest' | 'deadline';

/** A state change carried by an audit record. */
export type StoreWrite =
  | { kind: 'agent.insert'; row: AgentRow }
  | { kind: 'key.insert'; row: ApiKeyRow }
  | { kind: 'key.revoke'; id: string; at: number }
  | { kind: 'user.insert'; row: UserRow }
  | { kind: 'user.update'; id: string; patch: UserPatch }
  | { kind: 'session.insert'; row: SessionRow }
  | { kind: 'session.delete'; idHash: string }
  | { kind: 'identity.insert'; row: UserIdentityRow }
  | { kind: 'oidc_login.insert'; row: OidcLoginRow }
  /** Takes a waiting sign-in for `taker`: only if no callback took it and it has not expired at `at`. */
  | { kind: 'oidc_login.take'; stateHash: string; taker: string; at: number }
  | { kind: 'oidc_logins.purge'; expiredBy: number }
  /** Ends every session of a person (disabled). */
  | { kind: 'sessions.delete_user'; userId: string }
  | { kind: 'sessions.purge'; expiredBy: number }
  | { kind: 'token.insert'; row: UserTokenRow }
  | { kind: 'token.revoke'; id: string; at: number; by: string }
  | { kind: 'token.touch'; id: string; at: number }
  | { kind: 'approval.insert'; row: ApprovalRow }
  | { kind: 'approval.update'; id: string; patch: ApprovalPatch }
  | { kind: 'idempotency.insert'; row: IdempotencyInsert }
  | { kind: 'idempotency.purge'; before: number }
  /** The call a stored allow allows starts: only if no attempt started it before. */
  | { kind: 'idempotency.claim'; agent: string; key: string; decisionId: string; token: string; at: number }
  /** A key whose decision already ran names a new decision (a new call with a repeated id). */
  | { kind: 'idempotency.replace'; row: IdempotencyInsert; replaces: string }
  | { kind: 'policy.insert'; row: PolicyVersionRow }
  | { kind: 'policy.activate'; row: PolicyActivationRow }
  | { kind: 'delivery.insert'; row: NotificationDeliveryRow }
  | { kind: 'pause.insert'; row: PauseRow }
  | { kind: 'pause.resume'; id: string; by: string; at: number }
  | { kind: 'forwarder.ensure'; name: string; at: number }
  | { kind: 'forwarder.lease'; name: string; holder: string; at: number; until: number }
  | { kind: 'forwarder.ack'; name: string; holder: string; seq: number; at: number; until: number }
  | { kind: 'forwarder.release'; name: string; holder: string }
  /** A decision's first outcome: the first row for a decision stays (another instance may have raced). */
  | { kind: 'outcome.insert'; row: OutcomeRow }
  /** A started call finishes: only while it is still `started`. */
  | { kind: 'outcome.finish'; decisionId: string; patch: OutcomeFinish }
  /** An outcome refused because one was already recorded (housekeeping, not audited). */
  | { kind: 'outcome.duplicate'; decisionId: string };

export type OutcomeFinish = Pick<OutcomeRow, 'status' | 'finished_at' | 'duration_ms' | 'error_class' | 'error_message' | 'result_digest' | 'result_size' | 'reported_at'>;

/** An idempotency row as first written: not yet claimed unless said. */
export type IdempotencyInsert = Omit<IdempotencyRow, 'claimed_at' | 'claim_token'> & Partial<Pick<IdempotencyRow, 'claimed_at' | 'claim_token'>>;

export type ApprovalPatch = Partial<
  Pick<
    ApprovalRow,
    | 'status'
    | 'resolved_by'
    | 'resolved_by_kind'
    | 'resolved_at'
    | 'resolution_reason'
    | 'redeemed_at'
    | 'route'
    | 'tier'
    | 'votes'
    | 'deadline_at'
    | 'expires_at'
    | 'edited_args'
    | 'edited_call_hash'
    | 'used_tokens'
  >
>;

export type UserPatch = Partial<Pick<UserRow, 'groups' | 'role' | 'disabled_at'>>;
