import type { AirlockDecision, ApprovalState, Refusal } from './types.js';

/** A refusal as the model reads it. */
export function refusal(tool: string, code: string, reason: string, rule: string | null, decisionId?: string, approvalId?: string): Refusal {
  const refused: Refusal = { airlock: 'blocked', tool, code, reason, rule };
  if (decisionId) refused.decisionId = decisionId;
  if (approvalId) refused.approvalId = approvalId;
  return refused;
}

/** Why an approval does not let its call run, or undefined when it is approved and unspent. */
export function approvalRefusal(tool: string, state: ApprovalState, decision?: AirlockDecision): Refusal | undefined {
  const rule = decision?.rule ?? null;
  switch (state.status) {
    case 'approved':
      return undefined;
    case 'pending':
    case 'expired':
      return refusal(tool, 'approval_timeout', `no one approved ${tool} in time`, rule, decision?.id, state.id);
    case 'redeemed':
      return refusal(tool, 'approval_used', `this approved ${tool} call was already carried out; it does not run twice`, rule, decision?.id, state.id);
    case 'denied':
      return refusal(tool, 'approval_denied', `${state.resolvedBy ?? 'an approver'} denied ${tool}${state.reason ? `: ${state.reason}` : ''}`, rule, decision?.id, state.id);
  }
}
