import type { DecisionRequest, PolicySource } from '@airlock/core';
import { Random } from './prng.js';
import { asReceived } from './received.js';

export const GENERATED_ROLE = 'bench';
/** The one tool every call hits; the last declared, so a linear scan would pay for all the others. */
export const HIT_TOOL = 'tool_hit';
export const RULES_PER_TOOL = 5;
const SEED = 0x5eed_0002;
const CURRENCIES = ['USD', 'EUR', 'GBP'] as const;

const ARGS = {
  account_id: { type: 'string', minLength: 1, maxLength: 128 },
  amount: { type: 'number', minimum: 0 },
  currency: { type: 'string', enum: CURRENCIES },
};

/** Five bands over the amount: allow, allow with risk, approval, approval, block. */
function rulesFor(tool: string, scale: number): Record<string, unknown>[] {
  const [t1, t2, t3, t4] = [10, 100, 1_000, 10_000].map((t) => t * scale) as [number, number, number, number];
  return [
    { id: `${tool}-r0`, tool, when: `args.amount <= ${t1}`, effect: 'allow' },
    { id: `${tool}-r1`, tool, when: `args.amount > ${t1} && args.amount <= ${t2}`, effect: 'allow', risk: 10 },
    { id: `${tool}-r2`, tool, when: `args.amount > ${t2} && args.amount <= ${t3}`, effect: 'require_approval', approvers: ['leads'] },
    {
      id: `${tool}-r3`,
      tool,
      when: `args.amount > ${t3} && args.amount <= ${t4}`,
      effect: 'require_approval',
      approvers: ['finance'],
      reason: `Amounts over ${t3} need finance`,
    },
    { id: `${tool}-r4`, tool, when: `args.amount > ${t4}`, effect: 'block', reason: `Amounts over ${t4} are never automated` },
  ];
}

/**
 * One policy with `toolCount` tools of five rules each (numeric CEL thresholds), written as JSON
 * (valid YAML) for parseBundle. The hit tool has the same rules whatever the bundle size.
 */
export function generatedBundleSource(toolCount: number): PolicySource {
  const others = Array.from({ length: toolCount - 1 }, (_, i) => `tool_${String(i).padStart(3, '0')}`);
  const tools = [...others, HIT_TOOL];
  const document = {
    policy: 'generated',
    appliesTo: { roles: [GENERATED_ROLE] },
    default: 'block',
    tools: Object.fromEntries(tools.map((tool) => [tool, { args: ARGS }])),
    rules: tools.flatMap((tool, i) => rulesFor(tool, tool === HIT_TOOL ? 1 : 1 + (i % 7))),
  };
  return { file: `generated-${toolCount}-tools.yaml`, text: JSON.stringify(document, null, 1) };
}

/** Calls to the hit tool with amounts spread log-uniformly over every band. */
export function generatedCalls(count: number): DecisionRequest[] {
  const random = new Random(SEED);
  return Array.from({ length: count }, () =>
    asReceived({
      agent: `bench-bot-${random.int(1, 8)}`,
      role: GENERATED_ROLE,
      environment: 'production',
      tool: HIT_TOOL,
      args: {
        account_id: `A-${random.int(1, 50_000)}`,
        amount: Math.round(10 ** (random.next() * 4.3) * 100) / 100,
        currency: random.pick(CURRENCIES),
      },
    }),
  );
}
