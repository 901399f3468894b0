/** A refund as the support tools pass it to the billing system. */
export type Refund = {
  account_id: string;
  amount: number;
  currency: 'USD' | 'EUR' | 'GBP';
};

/**
 * What the support agent's tools reach: your billing and CRM APIs. The examples take it as a
 * parameter so the tests can count exactly which calls got through.
 */
export interface SupportBackend {
  getAccount(accountId: string): Promise<{ id: string; plan: string }>;
  issueRefund(refund: Refund): Promise<{ refunded: number; currency: string; account: string }>;
  exportCustomers(): Promise<string[]>;
}
