/**
 * Child process of differential.test.ts (cedar-wasm needs `node --no-turbo-inlining` on Node 20,
 * which a test worker cannot be given): decides N random refund and payment calls with the engine
 * and with the same thresholds written in Cedar, and prints what disagreed as JSON.
 * Usage: node --no-turbo-inlining --import tsx differential-runner.ts <cases per policy> <seed>
 */
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { compile, loadBundle } from '../../packages/core/src/index.js';

type Effect = 'allow' | 'require_approval' | 'block';
interface Outcome {
  effect: Effect;
  rule: string | null;
}

const [countText = '1000', seedText = '1'] = process.argv.slice(2);
const count = Number(countText);
let state = Number(seedText) >>> 0;
/** mulberry32: the same cases for the same seed. */
function random(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** Amounts in 1/10,000 units (Cedar decimals have at most 4 places), dense around the thresholds. */
function amountUnits(thresholds: number[]): number {
  const pick = random();
  if (pick < 0.5) {
    const t = (thresholds[Math.floor(random() * thresholds.length)] as number) * 10_000;
    return Math.max(0, t + Math.floor(random() * 21) - 10);
  }
  const max = (thresholds[thresholds.length - 1] as number) * 3 * 10_000;
  return Math.floor(random() ** 3 * max);
}

function decimal(units: number): string {
  return `${Math.floor(units / 10_000)}.${String(units % 10_000).padStart(4, '0')}`;
}

const engine = compile(loadBundle(new URL('../../examples/policies', import.meta.url).pathname));

const REFUND = 'principal, action == Action::"issue_refund", resource';
const PAYMENT = 'principal, action == Action::"make_payment", resource';
const policies: Record<string, string> = {
  'refund-small': `permit (${REFUND}) when { context.amount.lessThanOrEqual(decimal("50.0")) };`,
  'refund-medium': `permit (${REFUND}) when { context.amount.greaterThan(decimal("50.0")) && context.amount.lessThanOrEqual(decimal("500.0")) };`,
  'refund-large': `forbid (${REFUND}) when { context.amount.greaterThan(decimal("500.0")) };`,
  'payment-small': `permit (${PAYMENT}) when { context.amount.lessThan(decimal("1000.0")) };`,
  'payment-medium': `permit (${PAYMENT}) when { context.amount.greaterThanOrEqual(decimal("1000.0")) && context.amount.lessThanOrEqual(decimal("25000.0")) };`,
  'payment-large': `forbid (${PAYMENT}) when { context.amount.greaterThan(decimal("25000.0")) };`,
};
const APPROVAL_RULES = new Set(['refund-medium', 'payment-medium']);
const prepared = cedar.preparsePolicySet('differential', { staticPolicies: policies });
if (prepared.type !== 'success') throw new Error(JSON.stringify(prepared.errors));

function cedarDecide(tool: string, units: number, resource: string): Outcome {
  const answer = cedar.statefulIsAuthorized({
    principal: { type: 'Agent', id: 'differential' },
    action: { type: 'Action', id: tool },
    resource: { type: 'Account', id: resource },
    context: { amount: { __extn: { fn: 'decimal', arg: decimal(units) } } },
    preparsedPolicySetId: 'differential',
    entities: [],
  });
  if (answer.type !== 'success') throw new Error(answer.errors.map((e) => e.message).join('; '));
  const reasons = answer.response.diagnostics.reason;
  if (answer.response.decision === 'deny') return { effect: 'block', rule: reasons[0] ?? null };
  const approval = reasons.find((r) => APPROVAL_RULES.has(r));
  return approval ? { effect: 'require_approval', rule: approval } : { effect: 'allow', rule: reasons[0] ?? null };
}

const mismatches: unknown[] = [];
let cases = 0;
for (let i = 0; i < count; i++) {
  // Fresh accounts and agents: limits (refund budget per account, 50 payments per agent-hour) are
  // not part of this comparison; the thresholds are.
  const refundUnits = amountUnits([50, 500]);
  const refund = engine.decideSync({ agent: `d-${i}`, role: 'support', tool: 'issue_refund', args: { account_id: `A-${i}`, amount: refundUnits / 10_000, currency: 'USD' } });
  const refundCedar = cedarDecide('issue_refund', refundUnits, `A-${i}`);
  if (refund.effect !== refundCedar.effect || refund.rule !== refundCedar.rule) mismatches.push({ tool: 'issue_refund', amount: decimal(refundUnits), engine: { effect: refund.effect, rule: refund.rule }, cedar: refundCedar });

  const paymentUnits = amountUnits([1000, 25_000]);
  const payment = engine.decideSync({ agent: `d-${i}`, role: 'finance', tool: 'make_payment', args: { amount: paymentUnits / 10_000, currency: 'USD', payee: `P-${i}` } });
  const paymentCedar = cedarDecide('make_payment', paymentUnits, `P-${i}`);
  if (payment.effect !== paymentCedar.effect || payment.rule !== paymentCedar.rule) mismatches.push({ tool: 'make_payment', amount: decimal(paymentUnits), engine: { effect: payment.effect, rule: payment.rule }, cedar: paymentCedar });
  cases += 2;
}
process.stdout.write(`${JSON.stringify({ cases, mismatches: mismatches.slice(0, 20), mismatchCount: mismatches.length })}\n`);
