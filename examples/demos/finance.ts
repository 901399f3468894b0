import { tool } from 'ai';
import { z } from 'zod';
import { runDemo } from './harness.js';

/** `npm run demo:finance`: the finance seed scenario. */
const ran = (what: string) => async (args: object) => ({ done: what, ...args });
const money = { amount: z.number(), currency: z.string() };

await runDemo({
  title: 'Finance: a payments bot pays, transfers, and tries a payment no one should automate',
  agent: 'finance-bot-1',
  tools: {
    get_balance: tool({ description: 'Query an account balance.', inputSchema: z.object({ account_id: z.string() }), execute: ran('balance read') }),
    make_payment: tool({ description: 'Pay a payee.', inputSchema: z.object({ ...money, payee: z.string() }), execute: ran('paid') }),
    transfer_funds: tool({
      description: 'Move money between accounts.',
      inputSchema: z.object({ ...money, from_account: z.string(), to_account: z.string(), destination: z.enum(['internal', 'external']) }),
      execute: ran('transferred'),
    }),
  },
  calls: [
    { tool: 'get_balance', args: { account_id: 'OPS-1' } },
    { tool: 'make_payment', args: { amount: 420, currency: 'USD', payee: 'Acme Supplies' } },
    { tool: 'make_payment', args: { amount: 12_000, currency: 'USD', payee: 'Acme Supplies' } },
    { tool: 'make_payment', args: { amount: 40_000, currency: 'USD', payee: 'Unknown Ltd' } },
    { tool: 'transfer_funds', args: { amount: 5_000, currency: 'USD', from_account: 'OPS-1', to_account: 'OPS-2', destination: 'internal' } },
    { tool: 'transfer_funds', args: { amount: 300, currency: 'USD', from_account: 'OPS-1', to_account: 'EXT-9', destination: 'external' }, approve: false },
  ],
});
