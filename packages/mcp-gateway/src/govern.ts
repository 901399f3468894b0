import type { Airlock, PendingApproval, Refusal, ToolCall, Verdict } from '@airlock/sdk';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Incoming } from './relay.js';

export interface ApprovalWait {
  /** How long a call waits for its approval before it is refused with `approval_timeout`. */
  approvalTimeoutMs: number;
  /** How often the client hears that the call is still waiting (progress notifications). */
  progressIntervalMs: number;
}

/**
 * Airlock's verdict on one `tools/call`. A call that needs approval waits here for a person's
 * decision; meanwhile, if the client asked for progress (`_meta.progressToken`), it gets a progress
 * notification at once and then every `progressIntervalMs`, so it knows the call is alive and
 * what it waits for. Nothing runs here: the caller forwards `verdict.args` when told to run.
 */
export async function decideCall(airlock: Airlock, call: ToolCall, incoming: Incoming, wait: ApprovalWait): Promise<Verdict> {
  const first = await airlock.check(call, { approval: 'return', approvalTimeoutMs: wait.approvalTimeoutMs });
  if (first.outcome !== 'pending') return first;
  const stop = reportWaiting(incoming, first.pending, wait.progressIntervalMs);
  try {
    // A request the client cancels (or a connection that closes) stops the wait: nothing is redeemed, nothing runs.
    return await airlock.resume(call, first.pending.approvalId, { approvalTimeoutMs: wait.approvalTimeoutMs, signal: incoming.signal });
  } finally {
    stop();
  }
}

function reportWaiting(incoming: Incoming, pending: PendingApproval, intervalMs: number): () => void {
  const progressToken = incoming._meta?.progressToken;
  if (progressToken === undefined) return () => undefined;
  const approvers = pending.approvers.length > 0 ? pending.approvers.join(', ') : 'an approver';
  const message = `Waiting for approval ${pending.approvalId} from ${approvers}: ${pending.reason}`;
  let progress = 0;
  const send = (): void => {
    progress += 1;
    incoming.sendNotification({ method: 'notifications/progress', params: { progressToken, progress, message } }).catch(() => undefined);
  };
  send();
  const timer = setInterval(send, intervalMs);
  return () => clearInterval(timer);
}

/** A call that does not run: a tool error whose text is the refusal the model reads (as the SDK's adapters give it). */
export function refusedResult(refusal: Refusal): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(refusal) }], isError: true };
}

/** An approver changed the arguments: the model is told what actually ran before the tool's own output. */
export function withChangedArgs(result: CallToolResult, args: Record<string, unknown>): CallToolResult {
  const notice = { airlock: 'approved_with_changes', args };
  return { ...result, content: [{ type: 'text', text: JSON.stringify(notice) }, ...result.content] };
}
