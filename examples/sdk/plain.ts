import type { Airlock } from '@airlock/sdk';
import type { Refund, SupportBackend } from './support-backend.js';

/**
 * Any async function becomes a governed tool. The guarded function resolves to the function's own
 * result when Airlock allows the call; after an approval, to the result of the approved arguments
 * (wrapped as `approved_with_changes` when the approver edited them); otherwise to the refusal,
 * a plain object your agent hands the model.
 */
export function governedRefund(airlock: Airlock, backend: SupportBackend) {
  return airlock.guard('issue_refund', (refund: Refund) => backend.issueRefund(refund));
}
