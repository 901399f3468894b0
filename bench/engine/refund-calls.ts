import { readFileSync } from 'node:fs';
import type { DecisionRequest, PolicySource } from '@airlock/core';
import { Random } from './prng.js';
import { asReceived } from './received.js';

/** Share of allow / approval / block amounts in the refund mix. */
export const REFUND_MIX = { allow: 0.6, require_approval: 0.3, block: 0.1 } as const;
export const REFUND_CALLS = 4096;
const SEED = 0x5eed_0001;
const CURRENCIES = ['USD', 'EUR', 'GBP'] as const;

export interface RefundCall {
  request: DecisionRequest;
  /** The amount in cents, so baselines without fractional numbers (Cedar) get the exact value. */
  cents: number;
}

/**
 * "The refund policy": the customer-support seed policy without its `limits:` section, cut from
 * the seed file's text so the benchmark follows the policy as it evolves. The baselines hard-code
 * its thresholds; the parity checks catch any drift.
 */
export function refundPolicySource(): PolicySource {
  const file = new URL('../../examples/policies/customer-support.yaml', import.meta.url);
  const text = readFileSync(file, 'utf8');
  const limitsAt = text.search(/^limits:/m);
  if (limitsAt < 0) throw new Error(`${file.pathname}: no top-level 'limits:' section to cut`);
  return { file: 'customer-support-stateless.yaml', text: text.slice(0, limitsAt) };
}

/** A fixed mix of `issue_refund` calls; amounts are whole cents in each effect's range. */
export function refundCalls(count = REFUND_CALLS): RefundCall[] {
  const random = new Random(SEED);
  const calls: RefundCall[] = [];
  for (let i = 0; i < count; i++) {
    const band = random.weighted(REFUND_MIX);
    const cents =
      band === 'allow' ? random.int(0, 5_000) : band === 'require_approval' ? random.int(5_001, 50_000) : random.int(50_001, 500_000);
    calls.push({
      cents,
      request: asReceived({
        agent: `support-bot-${random.int(1, 8)}`,
        role: 'support',
        environment: 'production',
        tool: 'issue_refund',
        args: { account_id: `A-${random.int(1, 50_000)}`, amount: cents / 100, currency: random.pick(CURRENCIES) },
      }),
    });
  }
  return calls;
}
