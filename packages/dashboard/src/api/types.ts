/** The wire format of the Airlock API (see GET /openapi.json), as the dashboard reads it. */

export type Effect = 'allow' | 'require_approval' | 'block';
export const EFFECTS: readonly Effect[] = ['allow', 'require_approval', 'block'];
export type Role = 'admin' | 'policy-author' | 'approver' | 'viewer';
export type EffectCounts = Record<Effect, number>;

export interface User {
  id: string;
  username: string;
  role: Role;
}

export interface Session {
  user: User;
  csrfToken: string;
}

/**
 * The decision's risk: the raw score of the matched risk points, and the level, which is the
 * stricter of the score's tier and the tier the outcome stands for (allow low, flagged medium,
 * approval high, block critical), computed by the engine.
 */
export interface Risk {
  score: number;
  level: string;
}

/** What decided a call; for a block, why it was refused (server: services/refusal-cause.ts). */
export type Cause = 'rule' | 'limit' | 'risk' | 'default' | 'paused' | 'invalid_arguments' | 'unknown_tool' | 'no_policy' | 'evaluation_error';

export interface LimitOutcome {
  limit: string;
  policy: string;
  kind: 'rate' | 'budget' | 'blast_radius';
  key: string;
  used: number;
  adding: number;
  max: number;
  window: string;
  exceeded: boolean;
  consumed: boolean;
  effect: Effect;
}

export interface Decision {
  effect: Effect;
  rule: string | null;
  reason: string;
  decidedBy: string;
  matched: { rule: string; policy: string; effect?: Effect; risk?: number }[];
  limits: LimitOutcome[];
  risk: Risk;
  flagged: boolean;
  approvers?: string[];
  policy: { bundle: string; version: string | number; policies: string[] };
  error?: { code: string; message: string; path?: string };
}

/** A `decision` event of GET /v1/events. */
export interface DecisionEvent {
  id: string;
  seq: number;
  at: string;
  agent: string;
  role: string;
  environment: string;
  tool: string;
  args: Record<string, unknown>;
  effect: Effect;
  rule: string | null;
  reason: string;
  risk: Risk;
  cause?: Cause;
  policyVersion: number | string;
  approvalId?: string;
  /** Where the approval the decision opened stands. */
  approvalStatus?: ApprovalStatus;
}

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'redeemed';

export type TimeoutAction = 'escalate' | 'block' | 'allow';

export interface ApprovalTier {
  name: string;
  approvers: string[];
  required: number;
}

export interface ApprovalVote {
  by: string;
  at: string;
  reason: string;
  edited: boolean;
}

export interface Approval {
  id: string;
  decisionId: string;
  status: ApprovalStatus;
  agent: string;
  role: string;
  environment: string;
  tool: string;
  /** The arguments that will run: the edited ones when an approver changed them. */
  args: Record<string, unknown>;
  /** The arguments the agent asked for. */
  requestedArgs: Record<string, unknown>;
  edited: boolean;
  session: string | null;
  callHash: string;
  rule: string | null;
  reason: string;
  /** Approver groups of the current tier; empty: any approver. */
  approvers: string[];
  tier: string;
  tierIndex: number;
  tierCount: number;
  requiredApprovals: number;
  approvalsRemaining: number;
  /** The approvals that count toward the current tier, oldest first. */
  approvals: ApprovalVote[];
  /** When the current tier times out, and what happens then; null: no timeout. */
  deadlineAt: string | null;
  onTimeout: TimeoutAction | null;
  /** The tier an escalation moves to. */
  escalatesTo: string | null;
  escalations: number;
  route: { tiers: ApprovalTier[] };
  policyVersion: number;
  createdAt: string;
  expiresAt: string;
  resolvedBy: string | null;
  resolvedAt: string | null;
  resolutionReason: string | null;
  redeemedAt: string | null;
  /** Attributes of the agent's session (the customer it serves, …), part of the approved call. */
  sessionAttributes?: Record<string, string | number | boolean> | null;
  /** What the agent said it is doing: stated by the agent, not verified. */
  intent?: string | null;
}

/** A kill switch in force or lifted (GET /v1/pauses). */
export interface Pause {
  id: string;
  scope: 'fleet' | 'agent' | 'role' | 'tool';
  target: string | null;
  kind: 'manual' | 'quarantine';
  reason: string;
  createdBy: string;
  createdAt: string;
  resumedBy: string | null;
  resumedAt: string | null;
  /** A timed pause ends by itself then; null: until a person resumes it. */
  endsAt: string | null;
  active: boolean;
}

export interface Budget extends LimitOutcome {
  remaining: number;
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
  risk?: Risk;
  approval?: { id: string; status: ApprovalStatus };
}

export interface ApprovalContext {
  approval: Approval;
  decision: Decision | null;
  budgets: Budget[];
  history: HistoryEntry[];
}

export interface ValueCount {
  value: string | null;
  count: number;
}

export interface SeriesBucket extends EffectCounts {
  start: string;
}

export interface Overview {
  from: string;
  to: string;
  bucketMs: number;
  series: SeriesBucket[];
  totals: EffectCounts;
  topBlockedTools: ValueCount[];
  /** Rules and limits by id; every other refusal cause (value null) once. */
  topBlockedRules: (ValueCount & { cause: Cause })[];
  environments: ({ environment: string } & EffectCounts)[];
  approvals: {
    pending: number;
    /** Decided by people in the range, and their median time. */
    resolved: number;
    medianMs: number | null;
    /** Resolved by the system (a tier timing out): not in the median. */
    automatic: number;
    oldestPending: OldestPending | null;
  };
}

export interface OldestPending {
  id: string;
  agent: string;
  tool: string;
  createdAt: string;
  deadlineAt: string | null;
  onTimeout: TimeoutAction | null;
  escalatesTo: string | null;
  expiresAt: string;
}

export interface AnomalyBaseline {
  warmupMs: number;
  agents: { agent: string; historyMs: number; learning: boolean }[];
  starting: boolean;
}

export interface AnomalyFlag {
  code: string;
  message: string;
  recentRate: number;
  baselineRate: number;
}

export interface FleetAgent {
  id: string;
  role: string;
  environment: string;
  lastSeen: string | null;
  mix: EffectCounts;
  total: number;
  blockedRate: number | null;
  trend: { start: string; total: number; blocked: number }[];
  flags: AnomalyFlag[];
}

export interface FleetAgentDetail extends FleetAgent {
  series: SeriesBucket[];
  bucketMs: number;
  topTools: ValueCount[];
  topBlockedTools: ValueCount[];
  topRules: ValueCount[];
}

export interface AuditRecord {
  seq: number;
  at: string;
  type: string;
  actor: string;
  agent: string | null;
  tool: string | null;
  effect: Effect | null;
  rule: string | null;
  data: Record<string, unknown>;
  prevHash: string;
  hash: string;
  /** Decision records: what decided the call. */
  cause?: Cause;
  /** Decision records that opened an approval: where it stands. */
  approval?: { id: string; status: ApprovalStatus };
}

export type VerifyResult = { ok: true; records: number; head: string | null } | { ok: false; records: number; seq: number; reason: string };

export interface PolicySource {
  file: string;
  text: string;
}

export interface PolicyVersion {
  version: number;
  bundle: string;
  digest: string;
  files: string[];
  createdBy: string;
  createdAt: string;
  active: boolean;
}

export interface PolicyVersionDetail extends PolicyVersion {
  sources: PolicySource[];
}

export interface FileDiff {
  file: string;
  status: 'added' | 'removed' | 'modified';
  patch: string;
}

export interface PolicyProblem {
  code: string;
  file: string;
  line: number | null;
  path: string | null;
  message: string;
}

export interface FlipGroup {
  from: Effect;
  to: Effect;
  rule: string | null;
  count: number;
  examples: {
    id?: string;
    request: { agent: string; role: string; environment?: string; tool: string; args?: Record<string, unknown>; at: string | number };
    before: { effect: Effect; rule: string | null };
    after: { effect: Effect; rule: string | null; reason: string; decidedBy: string };
  }[];
}

export interface ReplayReport {
  calls: number;
  before: EffectCounts;
  after: EffectCounts;
  flipped: number;
  flips: FlipGroup[];
}

export type Simulation =
  | { mode: 'recorded'; from: string | null; to: string | null; report: ReplayReport }
  | { mode: 'call'; request: Record<string, unknown>; current: { version: number; decision: Decision } | null; candidate: Decision; flipped: boolean };

export interface Agent {
  id: string;
  role: string;
  environment: string;
  createdAt: string;
  createdBy: string;
}
