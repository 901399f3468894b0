import type { DecisionError } from '../errors.js';
import type { Effect, TimeoutAction } from '../policy/document.js';

export type { Effect, TimeoutAction };

/** One attempted tool call. `role` and `environment` are the caller's registered identity, not claims. */
export interface DecisionRequest {
  agent: string;
  role: string;
  /** Defaults to `production`: an unstated environment gets the strictest treatment. */
  environment?: string;
  tool: string;
  args?: Record<string, unknown>;
  /** Conversation or run id; visible to conditions as `session.id`. */
  session?: string;
  /**
   * Attributes the application bound to the session (never the model), e.g. the customer the
   * conversation is about; visible to conditions as `session.<name>`.
   */
  sessionAttributes?: SessionAttributes;
  /**
   * The agent's stated reason for the call, for the people who approve it and the audit trail.
   * Never visible to conditions: a stated reason allows nothing.
   */
  intent?: string;
  /** The request's clock: ISO 8601 string or epoch milliseconds. Absent: the engine's clock. */
  at?: string | number;
}

export type SessionAttributes = Record<string, string | number | boolean>;

export type RiskLevel = 'low' | 'medium' | 'high' | 'critical';

/** What decided the effect. */
/** `pause`: the kill switch (the server's, before any policy is consulted). */
export type DecidedBy = 'rule' | 'limit' | 'risk' | 'default' | 'error' | 'pause';

export interface MatchedRule {
  rule: string;
  policy: string;
  effect?: Effect;
  risk?: number;
}

export interface LimitOutcome {
  limit: string;
  policy: string;
  kind: 'rate' | 'budget' | 'blast_radius';
  /** The counter this call was checked against (limit id and key values). */
  key: string;
  /** Total in the window before this call, in the limit's unit (calls, amount, items). */
  used: number;
  /** What this call adds. */
  adding: number;
  max: number;
  window: string;
  exceeded: boolean;
  /** Whether this call was added to the counter (false when the call ended blocked). */
  consumed: boolean;
  effect: Exclude<Effect, 'allow'>;
}

export interface PolicyRef {
  bundle: string;
  version: string | number;
  /** Names of the policies that applied to this call. */
  policies: string[];
}

/** One step of an approval route, as the policy resolved it. */
export interface ApprovalTier {
  name: string;
  /** Approver groups; empty: any person allowed to approve. */
  approvers: string[];
  /** Distinct people who must approve. */
  required: number;
  /** Time without a decision in this tier before `onTimeout` applies (a duration such as `30m`); null: none. */
  timeout: string | null;
  /** `escalate` only where a next tier exists: the last tier's `escalate` is resolved to `block`. */
  onTimeout: TimeoutAction;
}

/**
 * Where a `require_approval` decision goes: the tier the call starts at (chosen by the tiers'
 * conditions over the call) and the whole route, for escalation. Read-only: decisions share it.
 */
export interface ApprovalRoute {
  /** Name of the starting tier. */
  tier: string;
  /** Index of the starting tier in `tiers`. */
  tierIndex: number;
  /** The starting tier's groups, required approvals, timeout and timeout action. */
  approvers: string[];
  required: number;
  timeout: string | null;
  onTimeout: TimeoutAction;
  /** How long the approval stays open per tier (a duration); null: the server's default. */
  expiresIn: string | null;
  tiers: readonly ApprovalTier[];
}

/** The engine's answer. It explains itself: every field is derived from the policy and the request. */
export interface Decision {
  effect: Effect;
  /** The deciding rule or limit id; null for the policy default, risk tier, or an error. */
  rule: string | null;
  reason: string;
  decidedBy: DecidedBy;
  /**
   * Every rule whose tool and condition matched, in policy order. Read-only: the entries, and often
   * the list itself (frozen), are shared between decisions.
   */
  matched: Readonly<MatchedRule>[];
  /** Every limit that applied to the call, exceeded or not. Read-only: an empty list may be shared (frozen). */
  limits: LimitOutcome[];
  /** Read-only: decisions may share it. */
  risk: Readonly<{ score: number; level: RiskLevel }>;
  /** True for a medium-risk call that is allowed but should be looked at. */
  flagged: boolean;
  /** Approver groups of the starting tier, for `require_approval` (same as `approval.approvers`). */
  approvers?: string[];
  /** The approval route, for `require_approval`. */
  approval?: Readonly<ApprovalRoute>;
  policy: PolicyRef;
  /** Present when the call was blocked because it could not be evaluated (bad input, engine error). */
  error?: DecisionError;
}
