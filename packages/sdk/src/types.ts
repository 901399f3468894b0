import type { ApprovalRoute, Decision } from '@airlock/core';
import type { components } from './api/index.js';

/** One tool call as the agent attempts it. Identity comes from the Airlock client, never the call. */
export interface ToolCall {
  tool: string;
  args: Record<string, unknown>;
  /** Conversation or run id, for limits and audit. */
  session?: string;
  /** Attributes the application bound to the session (`airlock.session`): visible to policy as `session.<name>`. */
  sessionAttributes?: SessionAttributes;
  /** The agent's stated reason for the call: shown to approvers and audited, never used to decide. */
  intent?: string;
}

export type SessionAttributes = Record<string, string | number | boolean>;

/**
 * What the application knows about the conversation an agent works in, bound with
 * `airlock.session(context, fn)`: every call governed inside `fn` carries it. Set in application
 * code, from the application's own state (the signed-in customer, the channel), never from what
 * the model says.
 */
export interface SessionContext {
  /** Conversation or run id (a call's own `session` wins). */
  id?: string;
  attributes?: SessionAttributes;
  /**
   * The agent's stated reason, for approvers: a text (e.g. the user's last message) or a function
   * of the call (e.g. the model's rationale for that tool call). Never used to decide.
   */
  intent?: string | ((call: ToolCall) => string | undefined);
}

/** The approval a `require_approval` decision opened: its route (tier, approver groups, required approvals) and where it stands. */
export interface ApprovalTicket extends ApprovalRoute {
  id: string;
  status: ApprovalStatus;
  expiresAt: string;
  /** When the starting tier times out (server only); null or absent: no timeout. */
  deadlineAt?: string | null;
}

/**
 * A decision as the SDK receives it: the engine's, with the ids the server (or local mode) adds.
 * The server's additions (remote mode) are the API's `DecisionResponse` fields: `replay` and
 * `replayOf` (answered from an idempotency key: the stored decision, not a new one), `ranAt`
 * (replays: when the call started, or null), `claim` (the run this decide claimed,
 * `DecideOptions.claim`: the call may start now, once) and `repeatOf` (a new decision for a key
 * whose decision had already run, `repeat: 'decide'`).
 */
export interface AirlockDecision extends Decision, Pick<components['schemas']['DecisionResponse'], 'replay' | 'replayOf' | 'ranAt' | 'claim' | 'repeatOf'> {
  id: string;
  /** When it was decided (ISO 8601; remote and edge mode): its execution outcome names it with the id. */
  at?: string;
  /** The policy records this tool's result with the call's outcome (`recordResult: true`; remote mode). */
  recordResult?: true;
  approval?: ApprovalTicket;
}

/** Where an approval stands (the API's `ApprovalStatus`). */
export type ApprovalStatus = components['schemas']['ApprovalStatus'];

export interface ApprovalState {
  id: string;
  status: ApprovalStatus;
  /** The approved arguments: the approver may have edited them. */
  args: Record<string, unknown>;
  reason?: string | null;
  resolvedBy?: string | null;
}

/**
 * What the model sees when a call does not run: a structured refusal it can read and explain.
 * `code`: `policy` (a rule, limit or risk tier blocked it), `approval_denied`, `approval_timeout`,
 * `approval_used` (the approved call already ran once), `already_ran` (the decision behind this
 * tool call id already ran once, at `firstRunAt`), `cancelled` (the caller stopped waiting
 * for approval), `airlock_unavailable`, or an engine error
 * code such as `invalid_arguments`.
 */
export interface Refusal {
  airlock: 'blocked';
  tool: string;
  code: string;
  reason: string;
  rule: string | null;
  decisionId?: string;
  approvalId?: string;
  /** `already_ran`: when the first run of this decision started (ISO 8601). */
  firstRunAt?: string;
}

/** What the model sees when a call waits for a person (approval mode `return`). */
export interface PendingApproval {
  airlock: 'approval_pending';
  tool: string;
  approvalId: string;
  reason: string;
  /** Approver groups of the tier the approval starts at. */
  approvers: string[];
  /** Distinct people who must approve. */
  required: number;
  expiresAt: string;
  message: string;
}

/** What a tool returns when an approver changed its arguments: the model is told what ran. */
export interface EditedResult<T> {
  airlock: 'approved_with_changes';
  args: Record<string, unknown>;
  result: T;
}

/** The SDK's verdict on one call, before anything runs. */
export type Verdict =
  | { outcome: 'run'; args: Record<string, unknown>; edited: boolean; decision: AirlockDecision | undefined; tool?: string }
  | { outcome: 'refused'; refusal: Refusal }
  | { outcome: 'pending'; pending: PendingApproval };

export interface GuardOptions {
  /**
   * `wait`: block the call until a person decides (long-poll), then run the approved call;
   * `return`: answer at once with a PendingApproval the model can read. Default `wait`.
   */
  approval?: 'wait' | 'return';
  /** How long `wait` waits before the call is refused with `approval_timeout`. Default 5 minutes. */
  approvalTimeoutMs?: number;
  /**
   * Stops a `wait` for approval when aborted (the caller gave up: a cancelled request, a closed
   * connection). The call is refused with `cancelled`; the approval is not redeemed, nothing runs.
   */
  signal?: AbortSignal;
  /** `return` (default): a refusal is the tool's result, for the model to read; `throw`: throw AirlockRefusalError. */
  onBlock?: 'return' | 'throw';
  /**
   * Run the tool anyway when Airlock cannot be reached. Only for read-only tools: every such call
   * is recorded in the fail-open journal and reported through `onFailOpen`. Default false.
   */
  failOpen?: boolean;
}

/** Thrown instead of returning a refusal when `onBlock: 'throw'`. */
export class AirlockRefusalError extends Error {
  readonly refusal: Refusal;
  constructor(refusal: Refusal) {
    super(`Airlock blocked ${refusal.tool}: ${refusal.reason}`);
    this.name = 'AirlockRefusalError';
    this.refusal = refusal;
  }
}

/**
 * Raised by a transport that cannot get an answer; the guard turns it into `airlock_unavailable`.
 * `refused`: Airlock was reached and turned the request down (an unknown or spent approval, an
 * idempotency key reused for another call, a rejected API key). Fail-open tools run only when
 * Airlock could not be reached, never when it refused.
 */
export class AirlockUnavailableError extends Error {
  readonly refused: boolean;
  constructor(message: string, options?: { cause?: unknown; refused?: boolean }) {
    super(message, options);
    this.name = 'AirlockUnavailableError';
    this.refused = options?.refused ?? false;
  }
}

/**
 * A decide that claimed a run (`DecideOptions.claim`) for a decision that already ran: the call
 * must not run again. The guard turns it into an `already_ran` refusal (never fail-open).
 */
export class AirlockAlreadyRanError extends AirlockUnavailableError {
  readonly decisionId: string;
  readonly firstRunAt: string;
  constructor(message: string, decisionId: string, firstRunAt: string) {
    super(message, { refused: true });
    this.name = 'AirlockAlreadyRanError';
    this.decisionId = decisionId;
    this.firstRunAt = firstRunAt;
  }
}
