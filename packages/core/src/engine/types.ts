import type { DecisionError } from '../errors.js';
import type { Effect } from '../policy/document.js';

export type { Effect };

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
  /** The request's clock: ISO 8601 string or epoch milliseconds. Absent: the engine's clock. */
  at?: string | number;
}

export type RiskLevel = 'low' | 'medium' | 'high' | 'critical';

/** What decided the effect. */
export type DecidedBy = 'rule' | 'limit' | 'risk' | 'default' | 'error';

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

/** The engine's answer. It explains itself: every field is derived from the policy and the request. */
export interface Decision {
  effect: Effect;
  /** The deciding rule or limit id; null for the policy default, risk tier, or an error. */
  rule: string | null;
  reason: string;
  decidedBy: DecidedBy;
  /** Every rule whose tool and condition matched, in policy order (entries are shared: read-only). */
  matched: Readonly<MatchedRule>[];
  /** Every limit that applied to the call, exceeded or not. */
  limits: LimitOutcome[];
  /** Read-only: decisions may share it. */
  risk: Readonly<{ score: number; level: RiskLevel }>;
  /** True for a medium-risk call that is allowed but should be looked at. */
  flagged: boolean;
  /** Approver groups, for `require_approval`. */
  approvers?: string[];
  policy: PolicyRef;
  /** Present when the call was blocked because it could not be evaluated (bad input, engine error). */
  error?: DecisionError;
}
