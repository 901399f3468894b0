import type { ConditionSource } from '../cel/codegen.js';
import { DEFAULT_ROUTE } from './approval-route.js';
import type { CompiledRule, ToolPlan } from './compile-bundle.js';
import { decisionRisk } from './risk.js';
import type { Decision, DecisionRequest, Effect, PolicyRef, RiskLevel } from './types.js';

/**
 * The whole policy decision for one (role, environment, tool) as one generated function: argument
 * acceptance, every rule condition, the approval tier and the decision object, with the rules'
 * ranks and risk points as literals. It answers only what it can answer exactly like the general
 * path (engine.ts `evaluate` + `evaluatePlan`); it returns undefined for anything else (arguments
 * the quick predicate does not accept, so the validator explains them), and the general path
 * decides that call.
 *
 * Generated only for a single policy's plan whose conditions (rules and approval tiers) are all
 * proven safe by the CEL code generator (cannot throw, always a bool, charge no evaluation
 * budget) and that has no novelty signal. Limits are not its business: the engine consults them
 * after it, as after the general path.
 *
 * Hostile policy text never reaches the source: rule ids, reasons, policy names, routes and
 * matched entries are passed in the `C` array; ranks are 0..2 and risk points finite numbers
 * written with String(); condition code comes from the CEL code generator, which writes only
 * JSON-encoded literals, validated identifiers and references to its own constants array.
 */
export type DecisionFunction = (request: DecisionRequest, args: Record<string, unknown>, environment: string) => Decision | undefined;

const EFFECTS: readonly Effect[] = ['allow', 'require_approval', 'block'];
const LEVELS: readonly RiskLevel[] = ['low', 'medium', 'high', 'critical'];
const CONSTANTS_NAME = /^k[0-9]+$/;
/**
 * The `matched` of a decision no rule matched and the `limits` of every decision this function
 * makes, shared: a decision's lists are read-only (Decision), and frozen where shared.
 */
const NONE: readonly never[] = Object.freeze([]);

class Unsupported extends Error {}

/** A number as a JavaScript literal; only finite numbers (never text) reach the source. */
function numberLiteral(value: unknown): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Unsupported();
  return Object.is(value, -0) ? '0' : String(value);
}

/** An effect as a literal, from the closed set only. */
function effectLiteral(effect: unknown): string {
  const index = EFFECTS.indexOf(effect as Effect);
  if (index < 0) throw new Unsupported();
  return `'${EFFECTS[index] as Effect}'`;
}

function safeCondition(source: ConditionSource | undefined): ConditionSource {
  if (!source || !source.safe || !CONSTANTS_NAME.test(source.constantsName)) throw new Unsupported();
  return source;
}

export function generateDecisionFunction(plan: ToolPlan, ref: PolicyRef): DecisionFunction | undefined {
  try {
    return generate(plan, ref);
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}

function generate(plan: ToolPlan, ref: PolicyRef): DecisionFunction {
  if (plan.novelty.length > 0) throw new Unsupported();
  const values: unknown[] = [];
  // Each value is bound once to a local of the factory (`c0`, `c1`, …): one context load per use.
  const value = (v: unknown): string => `c${values.push(v) - 1}`;
  const conditionConstants: unknown[] = [];
  const bindings: string[] = [];
  const bound = new Set<string>();
  let conditions = 0;
  const condition = (source: ConditionSource | undefined): string => {
    const safe = safeCondition(source);
    conditions++;
    if (!bound.has(safe.constantsName)) {
      bound.add(safe.constantsName);
      bindings.push(`const ${safe.constantsName} = K[${conditionConstants.push(safe.constants) - 1}];`);
    }
    return `(${safe.code})`;
  };

  const quick = plan.validate.quickAccept;
  const accept = quick ? `if (!${value(quick)}(args)) return undefined;` : `if (${value(plan.validate)}(args) !== undefined) return undefined;`;

  // Rules, in policy order: every match is recorded; the strictest rule decides, the first among equals.
  // The usual single match takes the rule's own frozen one-entry list (no allocation); a second
  // match copies it into a fresh array, which further matches extend.
  const empty = value(NONE);
  const matching = plan.rules.map((rule, i) => {
    const entry = value(rule.matchedEntry);
    const alone = value(Object.freeze([rule.matchedEntry]));
    const onMatch = [
      `if (matched === undefined) matched = ${alone}; else if (matched.length === 1) matched = [matched[0], ${entry}]; else matched.push(${entry});`,
      rule.risk ? `score += ${numberLiteral(rule.risk)};` : '',
      rule.rank >= 0 ? `if (${numberLiteral(rule.rank)} > rank) { rank = ${numberLiteral(rule.rank)}; d = ${i}; }` : '',
    ].join(' ');
    return rule.when ? `if (${condition(rule.when)}) { ${onMatch} }` : onMatch;
  });

  const cases = plan.rules.flatMap((rule, i) => (rule.rank >= 0 ? [`case ${i}: ${ruleOutcome(rule, value, condition)} break;`] : []));
  const defaultApproval = plan.defaultEffect === 'require_approval' ? value(DEFAULT_ROUTE) : 'undefined';
  // Risk as level ranks 0..3 (low..critical): the score's tier from the policy's thresholds, as
  // riskLevel computes it; the reported level is the stricter of it and the outcome's (decisionRisk).
  const tiers = plan.riskTiers;
  const zeroRank = LEVELS.indexOf(plan.zeroRisk.level);
  if (zeroRank < 0) throw new Unsupported();
  const scoreRank = `score >= ${numberLiteral(tiers.critical)} ? 3 : score >= ${numberLiteral(tiers.high)} ? 2 : score >= ${numberLiteral(tiers.medium)} ? 1 : 0`;
  // The shared risk objects of unscored decisions, by level rank (decisionRisk's own, so identical).
  const unscored = value(LEVELS.map((level) => decisionRisk(0, level, 'allow', false)));
  const levels = value(LEVELS);

  // What conditions see (`a`): only the names the CEL code generator's inline code reads.
  const activation = conditions > 0 ? 'const a = { args: args, agent: r.agent, role: r.role, environment: env, tool: r.tool };' : '';
  const tail = `
  const level = score === 0 ? ${numberLiteral(zeroRank)} : ${scoreRank};
  const flagged = level === 1 && effect === 'allow';
  if (level === 3 ? effect !== 'block' : level === 2 && effect === 'allow') {
    effect = level === 3 ? 'block' : 'require_approval';
    rule = null;
    reason = 'Risk score ' + score + ' is ' + ${levels}[level] + ' (policy ' + ${value(plan.policy)} + ')';
    decidedBy = 'risk';
    approval = effect === 'require_approval' ? ${value(DEFAULT_ROUTE)} : undefined;
  }
  const implied = effect === 'block' ? 3 : effect === 'require_approval' ? 2 : flagged ? 1 : 0;
  const reported = implied > level ? implied : level;
  return {
    effect: effect,
    rule: rule,
    reason: reason,
    decidedBy: decidedBy,
    matched: matched === undefined ? ${empty} : matched,
    limits: ${empty},
    risk: score === 0 ? ${unscored}[reported] : { score: score, level: ${levels}[reported] },
    flagged: flagged,
    policy: ${value(ref)},
    approvers: approval === undefined ? undefined : approval.approvers,
    approval: approval,
  };
};`;
  const byDefault = `effect = ${effectLiteral(plan.defaultEffect)}; rule = null; reason = ${value(plan.defaultReason)}; decidedBy = 'default'; approval = ${defaultApproval};`;
  // Every value() call is above this line: each `c<n>` the body uses is bound here.
  const constants = values.map((_, i) => `const c${i} = C[${i}];`).join(' ');
  const source = `'use strict'; ${bindings.join(' ')} ${constants}
return function decide(r, args, env) {
  ${accept}
  ${activation}
  let matched;
  let d = -1, rank = -1, score = 0;
  ${matching.join('\n  ')}
  let effect, rule, reason, decidedBy, approval;
  switch (d) {
    ${cases.join('\n    ')}
    default: ${byDefault}
  }
${tail}`;
  const factory = new Function('K', 'C', source) as (K: unknown[], C: unknown[]) => DecisionFunction;
  return factory(conditionConstants, values);
}

/** Statements setting effect, rule, reason, decidedBy and approval for a call this rule decides. */
function ruleOutcome(rule: CompiledRule, value: (v: unknown) => string, condition: (source: ConditionSource | undefined) => string): string {
  let approval = 'undefined';
  if (rule.effect === 'require_approval') {
    const route = rule.approval;
    if (!route) approval = value(DEFAULT_ROUTE);
    else {
      // The first tier whose condition holds; the compiler requires the last one to have none.
      const sources = route.sources;
      if (!sources || sources.length !== route.conditions.length) throw new Unsupported();
      const parts: string[] = [];
      let closed = false;
      for (let i = 0; i < sources.length && !closed; i++) {
        const tierRoute = route.routes[i];
        if (!tierRoute) throw new Unsupported();
        if (route.conditions[i] === undefined) {
          if (sources[i] !== undefined) throw new Unsupported();
          parts.push(value(tierRoute));
          closed = true;
        } else parts.push(`${condition(sources[i])} ? ${value(tierRoute)} :`);
      }
      if (!closed) throw new Unsupported();
      approval = parts.join(' ');
    }
  }
  return `effect = ${effectLiteral(rule.effect)}; rule = ${value(rule.id)}; reason = ${value(rule.reason)}; decidedBy = 'rule'; approval = ${approval};`;
}
