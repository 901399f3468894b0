import { vi } from 'vitest';
import type { Refund, SupportBackend } from './support-backend.js';

/** A SupportBackend whose every method is a spy: the tests assert exactly which calls got through. */
export function recordingBackend() {
  return {
    getAccount: vi.fn(async (accountId: string) => ({ id: accountId, plan: 'pro' })),
    issueRefund: vi.fn(async (refund: Refund) => ({ refunded: refund.amount, currency: refund.currency, account: refund.account_id })),
    exportCustomers: vi.fn(async () => ['A-1', 'A-2']),
  } satisfies SupportBackend;
}
