import type { ToolPlan } from './compile-bundle.js';
import { riskLevel } from './risk.js';

/**
 * Whether any call to a tool can get through, for one role and environment: what a gateway needs
 * to hide tools that would only ever be refused.
 */
export interface ToolReach {
  tool: string;
  /**
   * `blocked`: every call is blocked, whatever its arguments, the time, the session or the limit
   * state. `open`: some call may be allowed or sent for approval. When the analysis cannot tell, it
   * answers `open`: a tool is never reported blocked that a call could reach.
   */
  reach: 'open' | 'blocked';
  /** For `blocked`: the rule that blocks every call; null when the default or the risk tier does. */
  rule: string | null;
  /** For `blocked`: why, in the words a decision would use. */
  reason: string | null;
}

/**
 * One policy's plan blocks every call when an unconditional rule blocks, when no rule can allow or
 * ask for approval and the default is block, or when the risk points of unconditional rules alone
 * reach the critical tier. Conditions are not analysed: a conditional rule could match.
 */
function planBlocks(plan: ToolPlan): { rule: string | null; reason: string } | undefined {
  const always = plan.rules.filter((rule) => rule.when === undefined);
  const blocking = always.find((rule) => rule.effect === 'block');
  if (blocking) return { rule: blocking.id, reason: blocking.reason };
  if (plan.defaultEffect === 'block' && !plan.rules.some((rule) => rule.effect === 'allow' || rule.effect === 'require_approval')) {
    return { rule: null, reason: plan.defaultReason };
  }
  const score = always.reduce((sum, rule) => sum + rule.risk, 0);
  if (score > 0 && riskLevel(score, plan.riskTiers) === 'critical') {
    return { rule: null, reason: `Risk score ${score} is critical (policy ${plan.policy})` };
  }
  return undefined;
}

/** The reach of a declared tool: blocked when any policy that applies blocks every call (the strictest policy wins). */
export function toolReach(tool: string, plans: readonly ToolPlan[]): ToolReach {
  for (const plan of plans) {
    const blocked = planBlocks(plan);
    if (blocked) return { tool, reach: 'blocked', rule: blocked.rule, reason: blocked.reason };
  }
  return { tool, reach: 'open', rule: null, reason: null };
}
