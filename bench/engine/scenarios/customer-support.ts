import type { SeedScenario } from './seed-scenario.js';

const GAP_MS = 20_000;
const ACCOUNTS = 1_000;

export const customerSupport: SeedScenario = {
  policy: 'customer-support',
  seed: 0x5eed_0101,
  traffic:
    `4 agents, 1,000 accounts, a call every ${GAP_MS / 1000} s; ` +
    '40% refunds (70% <= $50, 25% medium, 5% large) against the $100/24h budget per account',
  calls(random, count) {
    return Array.from({ length: count }, () => {
      const agent = `support-bot-${random.int(1, 4)}`;
      const accountId = `A-${random.int(1, ACCOUNTS)}`;
      const tool = random.weighted({
        get_account: 30,
        create_ticket: 20,
        issue_refund: 40,
        export_customers: 5,
        change_account_owner: 5,
      });
      const base = { agent, role: 'support', environment: 'production', tool };
      switch (tool) {
        case 'get_account':
          return { gapMs: GAP_MS, request: { ...base, args: { account_id: accountId } } };
        case 'create_ticket':
          return {
            gapMs: GAP_MS,
            request: { ...base, args: { account_id: accountId, subject: `Customer asks about invoice ${random.int(1000, 9999)}` } },
          };
        case 'issue_refund': {
          const band = random.weighted({ small: 70, medium: 25, large: 5 });
          const cents =
            band === 'small' ? random.int(100, 5_000) : band === 'medium' ? random.int(5_001, 50_000) : random.int(50_001, 200_000);
          const args = { account_id: accountId, amount: cents / 100, currency: random.pick(['USD', 'EUR', 'GBP']) };
          return { gapMs: GAP_MS, request: { ...base, args } };
        }
        case 'export_customers':
          return { gapMs: GAP_MS, request: { ...base, args: {} } };
        case 'change_account_owner':
          return {
            gapMs: GAP_MS,
            request: { ...base, args: { account_id: accountId, new_owner_email: `owner${random.int(1, 999)}@example.com` } },
          };
      }
    });
  },
};
