import type { AirlockDecision, ApprovalState, ToolCall } from './types.js';

/**
 * Where decisions come from: the embedded engine (local mode) or an Airlock server (remote mode).
 * Every method either answers or throws AirlockUnavailableError; the guard fails closed on it.
 */
export interface Transport {
  decide(call: ToolCall): Promise<AirlockDecision>;
  /** Resolves when the approval leaves `pending`, or with `pending` once `timeoutMs` has passed. */
  waitForApproval(approvalId: string, timeoutMs: number): Promise<ApprovalState>;
  /** Spends an approved approval on exactly this call; answers the arguments to run. */
  redeem(approvalId: string, call: ToolCall): Promise<ApprovalState>;
  /** Records a call that ran while Airlock was unreachable (fail-open tools only). */
  recordFailOpen(call: ToolCall, error: Error): void;
  close(): Promise<void>;
}
