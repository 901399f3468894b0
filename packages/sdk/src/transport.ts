import type { ToolReach } from '@airlock/core';
import type { ExecutionOutcome } from './outcomes.js';
import type { AirlockDecision, ApprovalState, ToolCall } from './types.js';

export interface DecideOptions {
  /**
   * Decides a call once. Asked again with the same key, Airlock answers the first decision (its
   * approval's status brought up to date) without evaluating, auditing or counting the call again:
   * a framework that asks before and after an interruption, or a process restored from saved run
   * state, finds the approval it opened. Keys are per agent and kept 24 hours (local mode: at most
   * the latest 10,000); reusing one for a different call (tool, arguments, session) is refused.
   */
  idempotencyKey?: string;
  /**
   * With a key: this decide is the last step before the call runs, and this is the id of the
   * attempt (the same id again, e.g. a retry after a lost answer, gets the same answer). An allow
   * is claimed for this run: a decision authorizes one run. A decision that already ran (an allow
   * claimed by another attempt, an approval redeemed) is refused with AirlockAlreadyRanError,
   * unless `repeat` is `decide`. Without a claim the decide only reads.
   */
  claim?: string;
  /**
   * With a key whose decision already ran: `decide`, the key names a new call (a framework that
   * repeats tool call ids), decided afresh (audited, counted) and stored under the key; `refuse`
   * (default), the stored decision is answered and a claim is refused.
   */
  repeat?: 'decide' | 'refuse';
}

/**
 * Where decisions come from: the embedded engine (local mode) or an Airlock server (remote mode).
 * Every method either answers or throws AirlockUnavailableError; the guard fails closed on it.
 */
export interface Transport {
  decide(call: ToolCall, options?: DecideOptions): Promise<AirlockDecision>;
  /**
   * Decides at once, without I/O, when the transport can (local mode's embedded engine, edge
   * mode's stateless allows): the guard then runs an allowed tool without a single `await` of its
   * own. Same contract as `decide` without a key, including the audit record written (local) or
   * spooled (edge) before it returns. `undefined`: this call needs `decide`.
   */
  decideSync?(call: ToolCall): AirlockDecision | undefined;
  /**
   * Resolves when the approval leaves `pending`, or with `pending` once `timeoutMs` has passed or
   * `signal` is aborted (whichever comes first).
   */
  waitForApproval(approvalId: string, timeoutMs: number, signal?: AbortSignal): Promise<ApprovalState>;
  /** Spends an approved approval on exactly this call; answers the arguments to run. */
  redeem(approvalId: string, call: ToolCall): Promise<ApprovalState>;
  /**
   * The tools the agent's policy declares, each with whether any call to it can get through. A
   * tool not listed is unknown to the agent: every call to it is blocked.
   */
  tools(): Promise<ToolReach[]>;
  /**
   * Records what happened when a decided call ran (docs/outcomes.md): on the tool's path, so it
   * only queues (remote, edge) or appends one line (local). Absent: outcomes are not reported.
   */
  reportOutcome?(outcome: ExecutionOutcome): void;
  /** Records a call that ran while Airlock was unreachable (fail-open tools only). */
  recordFailOpen(call: ToolCall, error: Error): void;
  close(): Promise<void>;
}
