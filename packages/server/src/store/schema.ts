/**
 * Table types shared by every dialect. Times are epoch milliseconds; JSON values are stored as
 * text so the same queries run on SQLite and PostgreSQL.
 */

export interface AuditTable {
  /** Gapless, assigned by the single audit writer. */
  seq: number;
  at: number;
  type: string;
  actor: string;
  agent: string | null;
  tool: string | null;
  effect: string | null;
  rule: string | null;
  /** Canonical JSON of the whole record except `hash`; this is what the hash covers. */
  payload: string;
  prev_hash: string;
  hash: string;
}

/**
 * One indexed scalar field of a decision's call arguments (audit/arg-index.ts), written with its
 * record: what argument filters look up. Not part of the hash chain: derived from `payload`.
 */
export interface AuditArgsTable {
  seq: number;
  /** Dotted keys into the arguments, e.g. `payee.country`. */
  path: string;
  /** The value's text form: strings as written, numbers as JSON writes them, true / false. */
  text_value: string;
  /** Numbers only; null otherwise. */
  num_value: number | null;
}

export interface AgentTable {
  id: string;
  role: string;
  environment: string;
  created_at: number;
  created_by: string;
}

export interface ApiKeyTable {
  id: string;
  agent_id: string;
  /** sha256 hex of the secret part; the secret itself is never stored. */
  secret_hash: string;
  created_at: number;
  created_by: string;
  revoked_at: number | null;
}

export interface UserTable {
  id: string;
  username: string;
  password_hash: string;
  role: string;
  /** JSON array of approver groups. */
  groups: string;
  /** `person`, or `bot`: a service account (scripts, harnesses) whose decisions are counted apart. */
  kind: string;
  created_at: number;
  created_by: string;
  /** Set while the person is disabled: no sign-in, no session, no token works (migration 010). */
  disabled_at: number | null;
}

/** An identity provider's person (issuer, subject) signed in as an Airlock user (docs/sso.md). */
export interface UserIdentityTable {
  issuer: string;
  subject: string;
  user_id: string;
  created_at: number;
}

/** A single sign-on started and not yet finished (migration 011). */
export interface OidcLoginTable {
  /** sha256 hex of the `state` sent to the provider. */
  state_hash: string;
  /** sha256 hex of the value in the browser's binding cookie. */
  binding_hash: string;
  code_verifier: string;
  nonce: string;
  /** The redirect URI the authorization request named (the token request must repeat it). */
  redirect_uri: string;
  created_at: number;
  expires_at: number;
  /** Set once by the callback that takes the row; null while it waits. */
  taken_by: string | null;
}

export interface SessionTable {
  /** sha256 hex of the session token carried by the cookie. */
  id_hash: string;
  user_id: string;
  csrf_token: string;
  created_at: number;
  expires_at: number;
}

/** A person's API token (`apt_<id>_<secret>`): acts as the person, with their role or a narrower one. */
export interface UserTokenTable {
  id: string;
  user_id: string;
  /** What the person called it (e.g. "airlock CLI on laptop"). */
  name: string;
  /** A narrower role than the person's; null: the person's role. */
  role: string | null;
  /** sha256 hex of the secret part; the secret itself is never stored. */
  secret_hash: string;
  created_at: number;
  /** null: does not expire. */
  expires_at: number | null;
  revoked_at: number | null;
  revoked_by: string | null;
  /** Updated at most once a minute per instance (not audited). */
  last_used_at: number | null;
}

export interface ApprovalTable {
  id: string;
  decision_id: string;
  agent: string;
  role: string;
  environment: string;
  tool: string;
  /** JSON */
  args: string;
  session: string | null;
  call_hash: string;
  rule: string | null;
  reason: string;
  /** JSON array of approver groups */
  approvers: string;
  policy_version: number;
  status: string;
  created_at: number;
  expires_at: number;
  resolved_by: string | null;
  /** The kind of account that decided (`person` or `bot`); null: undecided, or the system (a tier timing out). */
  resolved_by_kind: string | null;
  resolved_at: number | null;
  resolution_reason: string | null;
  redeemed_at: number | null;
  /** JSON of the ApprovalRoute the decision resolved; '' for approvals from before routing. */
  route: string;
  /** Index of the current tier in the route (moves up on escalation). */
  tier: number;
  /** JSON array of the approvals collected so far (ApprovalVote). */
  votes: string;
  /** When the current tier times out; null: no timeout. */
  deadline_at: number | null;
  /** JSON of the arguments an approver changed the call to; null: not edited. */
  edited_args: string | null;
  /** Hash of the edited call; redemption accepts the requested or the edited call. */
  edited_call_hash: string | null;
  /** JSON array of the nonces of link tokens already used on this approval. */
  used_tokens: string;
  /** JSON of the session attributes the call was made with; null: none. */
  session_attributes: string | null;
  /** The agent's stated reason for the call (shown to approvers, never used to decide). */
  intent: string | null;
}

/** One attempt to deliver one notification. */
export interface NotificationDeliveryTable {
  id: string;
  delivery_id: string;
  approval_id: string;
  channel: string;
  kind: string;
  event: string;
  attempt: number;
  /** `delivered` or `failed`. */
  outcome: string;
  status_code: number | null;
  error: string | null;
  at: number;
  /** When the next attempt is due after a failure; null: delivered, or no attempts left. */
  next_attempt_at: number | null;
}

export interface IdempotencyTable {
  agent: string;
  key: string;
  /** sha256 of the canonical request, to refuse a key reused for a different call. */
  request_hash: string;
  decision_id: string;
  /** JSON of the response as first returned. */
  response: string;
  created_at: number;
  /** When the call an allowed decision allows started (epoch ms); null until it runs. */
  claimed_at: number | null;
  /** The claim id of the attempt that started it: the same attempt retried gets the same answer. */
  claim_token: string | null;
}

export interface PolicyVersionTable {
  version: number;
  bundle: string;
  /** JSON array of { file, text } */
  sources: string;
  digest: string;
  created_by: string;
  created_at: number;
  /** The author's note on this version (migration 012); null when none was given. */
  note?: string | null;
}

export interface PolicyActivationTable {
  id: number;
  version: number;
  activated_at: number;
  activated_by: string;
}

export interface Database {
  audit: AuditTable;
  audit_args: AuditArgsTable;
  agents: AgentTable;
  api_keys: ApiKeyTable;
  users: UserTable;
  sessions: SessionTable;
  user_tokens: UserTokenTable;
  approvals: ApprovalTable;
  idempotency: IdempotencyTable;
  policy_versions: PolicyVersionTable;
  policy_activations: PolicyActivationTable;
  notification_deliveries: NotificationDeliveryTable;
  pauses: PauseTable;
  audit_forwarders: AuditForwarderTable;
  user_identities: UserIdentityTable;
  oidc_logins: OidcLoginTable;
  outcomes: OutcomeTable;
  search_index: SearchIndexTable;
  audit_archives: AuditArchiveTable;
  decision_counts: DecisionCountsTable;
}

/**
 * Decisions counted per minute (migration 019), written in the transaction that appends them, so
 * the dashboard's figures read minutes instead of every record (docs/design-notes.md "Decision
 * counts"). A null rule, decider or error code is stored as '' (these columns are the key).
 */
export interface DecisionCountsTable {
  /** Start of the minute (epoch ms, a multiple of 60,000). */
  minute: number;
  agent: string;
  tool: string;
  effect: string;
  rule: string;
  /** The decision's `decidedBy`. */
  decided_by: string;
  /** The decision's `error.code`. */
  code: string;
  count: number;
}

/**
 * One archived prefix of the audit trail (migration 018): records `first_seq`..`seq` were moved to
 * `file`. The row with the highest `seq` is the trail's base: the next record links to `hash`.
 */
export interface AuditArchiveTable {
  seq: number;
  hash: string;
  at: number;
  first_seq: number;
  /** The archive's file name, as the archive command wrote it (no folder). */
  file: string;
  archived_at: number;
}

export type AuditArchiveRow = AuditArchiveTable;

/** How far a derived index is complete (migration 017): every record at or below `seq` is in it. */
export interface SearchIndexTable {
  name: string;
  seq: number;
}

/** What ran after one decision, as its agent reported it (migration 014, docs/outcomes.md). */
export interface OutcomeTable {
  decision_id: string;
  agent: string;
  tool: string;
  /** The approval the call ran on, if it needed one. */
  approval_id: string | null;
  /** The decision's effect: `allow`, or `require_approval` for a call that ran on an approval. */
  decision_effect: string;
  decided_at: number;
  /** started | succeeded | failed */
  status: string;
  started_at: number | null;
  finished_at: number | null;
  duration_ms: number | null;
  /** The error's class (its `name`), for a failed call. */
  error_class: string | null;
  /** The error's message, truncated. */
  error_message: string | null;
  /** sha256 hex of the result's JSON text, and that text's size in bytes. */
  result_digest: string | null;
  result_size: number | null;
  reported_at: number;
  /** Outcomes refused for this decision because one was already recorded. */
  duplicates: number;
}

/** One audit webhook forwarder: how far the receiver acknowledged, and which instance forwards now. */
export interface AuditForwarderTable {
  name: string;
  /** The last seq the receiver acknowledged; the next batch starts after it. */
  seq: number;
  /** The instance forwarding now; '' when none. */
  holder: string;
  /** The holder's lease ends then (epoch ms); another instance may take over after it. */
  lease_until: number;
  updated_at: number;
}

/** A kill switch: every decision in its scope is `block` (`paused`) until a person resumes it. */
export interface PauseTable {
  id: string;
  /** fleet | agent | role | tool */
  scope: string;
  /** The agent, role or tool; '' for the fleet. */
  target: string;
  /** manual | quarantine */
  kind: string;
  reason: string;
  created_by: string;
  created_at: number;
  resumed_by: string | null;
  resumed_at: number | null;
  /** When a timed pause ends by itself (epoch ms); null: until a person resumes it. */
  ends_at: number | null;
}

export type AuditRow = AuditTable;
export type AuditArgsRow = AuditArgsTable;
export type DecisionCountsRow = DecisionCountsTable;
export type AgentRow = AgentTable;
export type ApiKeyRow = ApiKeyTable;
export type UserRow = UserTable;
export type SessionRow = SessionTable;
export type UserIdentityRow = UserIdentityTable;
export type OidcLoginRow = OidcLoginTable;
export type UserTokenRow = UserTokenTable;
export type ApprovalRow = ApprovalTable;
export type PauseRow = PauseTable;
export type AuditForwarderRow = AuditForwarderTable;
export type OutcomeRow = OutcomeTable;
export type IdempotencyRow = IdempotencyTable;
export type PolicyVersionRow = PolicyVersionTable;
export type PolicyActivationRow = PolicyActivationTable;
export type NotificationDeliveryRow = NotificationDeliveryTable;
