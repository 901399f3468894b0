import type { DecisionRequest } from '@airlock/core';

export interface HandWrittenDecision {
  effect: 'allow' | 'require_approval' | 'block';
  rule: string | null;
  reason: string;
}

const ACCOUNT_ID_MAX = 128;

/**
 * The refund policy written by hand, doing what the engine must do for such a call: the role has
 * a policy, the tool is declared, the arguments match the declared schema (closed object, every
 * field required, account_id a string of 1..128 UTF-16 units, amount a finite number >= 0,
 * currency one of USD/EUR/GBP), then the thresholds. Reasons are the engine's texts.
 */
export function decideRefund(request: DecisionRequest): HandWrittenDecision {
  if (request.role !== 'support') return { effect: 'block', rule: null, reason: `no policy applies to role '${request.role}'` };
  if (request.tool !== 'issue_refund') {
    return { effect: 'block', rule: null, reason: `tool '${request.tool}' is not declared for role 'support'` };
  }
  const args = request.args;
  if (args === null || typeof args !== 'object' || Array.isArray(args)) return invalid('args must be an object');
  for (const key in args) {
    if (key !== 'account_id' && key !== 'amount' && key !== 'currency') return invalid(`args.${key} is not allowed`);
  }
  const { account_id: accountId, amount, currency } = args;
  if (typeof accountId !== 'string' || accountId.length === 0 || accountId.length > ACCOUNT_ID_MAX) {
    return invalid('args.account_id must be a string of 1 to 128 characters');
  }
  if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) return invalid('args.amount must be a number >= 0');
  if (currency !== 'USD' && currency !== 'EUR' && currency !== 'GBP') return invalid('args.currency must be USD, EUR or GBP');
  if (amount <= 50) return { effect: 'allow', rule: 'refund-small', reason: 'Rule refund-small (policy customer-support): allow' };
  if (amount <= 500) {
    return { effect: 'require_approval', rule: 'refund-medium', reason: 'Refunds over $50 up to $500 need approval, by a support lead up to $200 and a support manager above' };
  }
  return { effect: 'block', rule: 'refund-large', reason: 'Refunds over $500 are never automated' };
}

function invalid(reason: string): HandWrittenDecision {
  return { effect: 'block', rule: null, reason };
}
