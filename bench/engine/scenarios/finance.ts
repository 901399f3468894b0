import type { SeedScenario } from './seed-scenario.js';

const GAP_MS = 8_000;
const CURRENCIES = ['USD', 'EUR', 'GBP'] as const;

export const finance: SeedScenario = {
  policy: 'finance',
  seed: 0x5eed_0103,
  traffic: `4 agents, a call every ${GAP_MS / 1000} s: ~64 payments + transfers per agent per hour against the 50/h rate limit`,
  calls(random, count) {
    return Array.from({ length: count }, () => {
      const agent = `finance-bot-${random.int(1, 4)}`;
      const tool = random.weighted({ get_balance: 40, make_payment: 35, transfer_funds: 22, modify_account_permissions: 3 });
      const base = { agent, role: 'finance', environment: 'production', tool };
      const currency = random.pick(CURRENCIES);
      switch (tool) {
        case 'get_balance':
          return { gapMs: GAP_MS, request: { ...base, args: { account_id: `ACC-${random.int(1, 500)}` } } };
        case 'make_payment': {
          const band = random.weighted({ small: 80, medium: 17, large: 3 });
          const cents =
            band === 'small'
              ? random.int(100, 99_999)
              : band === 'medium'
                ? random.int(100_000, 2_500_000)
                : random.int(2_500_001, 10_000_000);
          return { gapMs: GAP_MS, request: { ...base, args: { amount: cents / 100, currency, payee: `vendor-${random.int(1, 200)}` } } };
        }
        case 'transfer_funds': {
          const destination = random.weighted({ internal: 75, external: 25 });
          const cents = random.weighted({ below: 85, above: 15 }) === 'below' ? random.int(100, 999_999) : random.int(1_000_000, 5_000_000);
          const args = {
            amount: cents / 100,
            currency,
            from_account: `ACC-${random.int(1, 500)}`,
            to_account: `ACC-${random.int(1, 500)}`,
            destination,
          };
          return { gapMs: GAP_MS, request: { ...base, args } };
        }
        case 'modify_account_permissions':
          return { gapMs: GAP_MS, request: { ...base, args: { account_id: `ACC-${random.int(1, 500)}`, grant: 'admin' } } };
      }
    });
  },
};
