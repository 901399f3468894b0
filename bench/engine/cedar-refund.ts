import type { AuthorizationAnswer, PolicySet, StatefulAuthorizationCall } from '@cedar-policy/cedar-wasm/nodejs';
import type { RefundCall } from './refund-calls.js';

export const CEDAR_POLICY_SET_ID = 'refund';

const REFUND = 'principal, action == Action::"issue_refund", resource';

/**
 * The refund thresholds in Cedar. Cedar has no fractional numbers, so amounts are `decimal`
 * values. Cedar answers allow/deny with the policies that determined it, so "require approval" is
 * the permit policy `refund-medium` being the reason for an allow; a deny with no reason is the
 * default (no permit matched).
 */
export const CEDAR_REFUND_POLICIES: PolicySet = {
  staticPolicies: {
    'refund-small': `permit (${REFUND}) when { context.amount.lessThanOrEqual(decimal("50.0")) };`,
    'refund-medium': `permit (${REFUND}) when { context.amount.greaterThan(decimal("50.0")) && context.amount.lessThanOrEqual(decimal("500.0")) };`,
    'refund-large': `forbid (${REFUND}) when { context.amount.greaterThan(decimal("500.0")) };`,
  },
};

export interface CedarOutcome {
  effect: 'allow' | 'require_approval' | 'block';
  rule: string | null;
}

/** Cents as a Cedar decimal literal: digits on both sides of the point, two places. */
export function cedarDecimal(cents: number): string {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

/** Built before timing: Cedar is timed on ready-made calls, which only flatters it. */
export function cedarCall(call: RefundCall): StatefulAuthorizationCall {
  const args = call.request.args ?? {};
  return {
    principal: { type: 'Agent', id: call.request.agent },
    action: { type: 'Action', id: 'issue_refund' },
    resource: { type: 'Account', id: String(args.account_id) },
    context: { amount: { __extn: { fn: 'decimal', arg: cedarDecimal(call.cents) } }, currency: String(args.currency) },
    preparsedPolicySetId: CEDAR_POLICY_SET_ID,
    entities: [],
  };
}

export function cedarOutcome(answer: AuthorizationAnswer): CedarOutcome {
  if (answer.type !== 'success') {
    throw new Error(`cedar-wasm failed: ${answer.errors.map((e) => e.message).join('; ')}`);
  }
  const { decision, diagnostics } = answer.response;
  const reasons = diagnostics.reason;
  if (decision === 'deny') return { effect: 'block', rule: reasons[0] ?? null };
  if (reasons.includes('refund-medium')) return { effect: 'require_approval', rule: 'refund-medium' };
  return { effect: 'allow', rule: reasons[0] ?? null };
}
