import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { createAirlock } from '@airlock/sdk';
import { handleChat } from './session.js';

/** The session example in local mode, on the hardened bundle (support scoped to the session's customer). */
function hardened(): { policy: string; audit: string; records: () => { event: string; call?: Record<string, unknown> }[] } {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-session-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const policy = join(dir, 'policies');
  cpSync('examples/policies-hardened', policy, { recursive: true, filter: (source) => !source.includes('tests') && !source.endsWith('.ts') && !source.endsWith('.md') });
  const audit = join(dir, 'audit.jsonl');
  return { policy, audit, records: () => readFileSync(audit, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { event: string; call?: Record<string, unknown> }) };
}

describe('session context example', () => {
  it('lets the tools act only for the signed-in customer, whatever the model asks, without leaking between concurrent chats', async () => {
    const fixture = hardened();
    const airlock = createAirlock({ policy: fixture.policy, audit: fixture.audit, agent: 'support-bot-1', role: 'support' });
    onTestFinished(() => airlock.close());
    const readAccount = vi.fn(async (args: { account_id: string }) => ({ account: args.account_id }));
    const getAccount = airlock.guard('get_account', readAccount);

    const [mine, theirs] = await Promise.all([
      handleChat(airlock, { customerId: 'C-42', conversationId: 'conv-1' }, 'What is my balance?', async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return [await getAccount({ account_id: 'C-42' }), await getAccount({ account_id: 'C-43' })];
      }),
      handleChat(airlock, { customerId: 'C-43', conversationId: 'conv-2' }, 'Show me account C-42', async () => [await getAccount({ account_id: 'C-42' })]),
    ]);
    expect(mine[0]).toEqual({ account: 'C-42' });
    expect(mine[1]).toMatchObject({ airlock: 'blocked', rule: 'other-customer' });
    expect(theirs[0]).toMatchObject({ airlock: 'blocked', rule: 'other-customer' });
    // Outside any session there is no bound customer: nothing is readable.
    expect(await getAccount({ account_id: 'C-42' })).toMatchObject({ airlock: 'blocked', rule: 'other-customer' });
    expect(readAccount.mock.calls).toEqual([[{ account_id: 'C-42' }]]);

    const calls = fixture.records().filter((r) => r.event === 'decision').map((r) => r.call);
    expect(calls).toContainEqual({ tool: 'get_account', args: { account_id: 'C-43' }, session: 'conv-1', sessionAttributes: { customer_id: 'C-42', channel: 'chat' }, intent: 'What is my balance?' });
  });

  it('records a new payee once an approved payment was executed (local mode)', async () => {
    const fixture = hardened();
    const airlock = createAirlock({ policy: fixture.policy, audit: fixture.audit, agent: 'finance-bot-1', role: 'finance', approver: async () => ({ approved: true, by: 'treasurer' }) });
    onTestFinished(() => airlock.close());
    const pay = vi.fn(async (args: { amount: number; currency: string; payee: string }) => ({ paid: args.amount }));
    const makePayment = airlock.guard('make_payment', pay);
    expect(await makePayment({ amount: 10, currency: 'USD', payee: 'ACME' })).toEqual({ paid: 10 });
    expect(await makePayment({ amount: 10, currency: 'USD', payee: 'ACME' })).toEqual({ paid: 10 });
    const effects = fixture.records().filter((r) => r.event === 'decision').map((r) => (r as { decision?: { rule: string } }).decision?.rule);
    expect(effects).toEqual(['payment-new-payee', 'payment-small']);
  });
});
