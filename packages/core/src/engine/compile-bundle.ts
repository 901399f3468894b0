import type { Environment } from '@marcbachmann/cel-js';
import picomatch from 'picomatch';
import { CelUnsupportedError, type CompiledExpression } from '../cel/compile.js';
import { compileConditionSource, generateConditionSource, type ConditionSource } from '../cel/codegen.js';
import { generateMatcher, type Matcher } from './plan-matcher.js';
import { createBaseEnvironment, environmentForArgs } from '../cel/environment.js';
import { DEFAULT_MAX_DECISION_COST, DEFAULT_MAX_EXPRESSION_COST } from '../cel/cost.js';
import { estimateCost, variableShapes, type Shape } from '../cel/estimate.js';
import { WorkingHours } from './working-hours.js';
import { parseDuration } from '../duration.js';
import type { LoadError } from '../errors.js';
import { PolicyLoadError } from '../errors.js';
import { celSyntaxProblem, celTypeProblem } from '../cel/messages.js';
import { limitKindOf, type ApprovalRouteDocument, type Effect, type JsonSchema, type LimitDocument, type LimitKind, type NoveltySignalDocument, type RiskTiers, type RuleDocument } from '../policy/document.js';
import { routesFor, type CompiledRoute, type TierSpec } from './approval-route.js';
import { riskLevel } from './risk.js';
import type { MatchedRule, RiskLevel } from './types.js';
import { formatPath, type LoadedPolicy, type PolicyBundle } from '../policy/load.js';
import { createSchemaCompiler, type ArgsValidator } from './args-validator.js';
import { SchemaPatternError } from './schema-pattern.js';

/**
 * Turns a validated bundle into the engine's lookup structure: for every role, environment and
 * tool, the list of policy plans to run, each with its argument validator, its rules and limits
 * for that tool, conditions already compiled to closures. Nothing here runs per decision.
 */

export interface CompiledRule {
  id: string;
  policy: string;
  effect: Effect | undefined;
  /** EFFECT_RANK of the effect, -1 for a risk-only rule: compared per call, so computed once. */
  rank: number;
  risk: number;
  /** The reason a decision by this rule gives: the author's, or a generated one. */
  reason: string;
  /** Where the call goes when this rule asks for approval; undefined for other effects. */
  approval: CompiledRoute | undefined;
  when: ConditionSource | undefined;
  /** Estimated worst-case evaluation cost of its condition and approval tiers (cost units). */
  cost: number;
  /** Whether evaluating it charges the runtime meter. */
  metered: boolean;
  /** The entry this rule adds to `decision.matched`; shared and read-only. */
  matchedEntry: Readonly<MatchedRule>;
}

export type { LimitKind };

export interface CompiledLimit {
  id: string;
  policy: string;
  kind: LimitKind;
  when: CompiledExpression | undefined;
  key: CompiledExpression[];
  /** Start of every counter key of this limit: keys are the JSON array [policy, id, ...key values]. */
  keyPrefix: string;
  /** Budget: the amount; blast radius: the list. Rate: undefined (each call counts 1). */
  measure: CompiledExpression | undefined;
  max: number;
  window: string;
  windowMs: number;
  effect: 'require_approval' | 'block';
  reason: string | undefined;
  /** Where the call goes when this limit asks for approval; undefined for `block` limits. */
  approval: CompiledRoute | undefined;
  /** Estimated worst-case evaluation cost of its expressions (cost units). */
  cost: number;
  /** Whether evaluating it charges the runtime meter. */
  metered: boolean;
}

/** A novelty signal for one tool: `novel.<id>` is whether its key was never seen. */
export interface CompiledNovelty {
  id: string;
  key: CompiledExpression[];
  /** Start of every seen-key of this signal: the JSON array [policy, id, ...key values]. */
  keyPrefix: string;
  /** Estimated worst-case evaluation cost of its key (cost units). */
  cost: number;
  /** Whether evaluating it charges the runtime meter. */
  metered: boolean;
}

/** One policy's view of one tool in one environment. */
export interface ToolPlan {
  policy: string;
  tool: string;
  validate: ArgsValidator;
  rules: CompiledRule[];
  /** The rules as one generated function. */
  match: Matcher;
  limits: CompiledLimit[];
  /** Novelty signals of the policy that cover this tool. */
  novelty: CompiledNovelty[];
  defaultEffect: Effect;
  /** The reason a decision by the policy default gives. */
  defaultReason: string;
  riskTiers: RiskTiers;
  /** The risk of a call no risk rule matched; shared by those decisions. */
  zeroRisk: Readonly<{ score: number; level: RiskLevel }>;
  /** Estimated worst-case cost of evaluating this plan for one call (cost units). */
  cost: number;
  /** Whether any of its expressions charges the runtime meter (most plans: none, and no meter). */
  metered: boolean;
  /** The policy's per-decision budget (its `evaluation.maxDecisionCost`, or the default). */
  budget: number;
}

/** role → environment (or BASE) → tool → plans */
export type PlanIndex = Map<string, Map<string, Map<string, ToolPlan[]>>>;
export const BASE_ENVIRONMENT = '*';
/** Strictness order: block > require_approval > allow. */
export const EFFECT_RANK: Readonly<Record<Effect, number>> = { allow: 0, require_approval: 1, block: 2 };
const USUAL_ENVIRONMENTS = ['production', 'staging', 'dev'];

export interface CompiledBundle {
  index: PlanIndex;
  policies: string[];
  /** The working-hours signals of every policy (ids are unique across the bundle). */
  hours: WorkingHours[];
}

interface PolicyContext {
  /** Names each generated condition's constants uniquely, so many can share one function. */
  nextConstantsName: () => string;
  loaded: LoadedPolicy;
  errors: LoadError[];
  declared: string[];
  validators: Map<string, ArgsValidator>;
  environments: Map<string, Environment>;
  /** Per tool: the shapes of the variables, for cost estimates. */
  shapes: Map<string, Map<string, Shape>>;
  maxExpressionCost: number;
  maxDecisionCost: number;
}

export function compileBundle(bundle: PolicyBundle): CompiledBundle {
  const errors: LoadError[] = [];
  const compileSchema = createSchemaCompiler();
  const base = createBaseEnvironment(
    bundle.policies.flatMap((p) => (p.document.signals?.novelty ?? []).map((signal) => signal.id)),
    bundle.policies.flatMap((p) => (p.document.signals?.hours ?? []).map((signal) => signal.id)),
  );
  const hours: WorkingHours[] = [];
  const index: PlanIndex = new Map();
  const ids = new Map<string, string>();
  let constantsCounter = 0;
  /** Plans already reported over their per-decision budget (one report per policy, tool and environment). */
  const overBudget = new Set<string>();
  const nextConstantsName = (): string => `k${constantsCounter++}`;

  for (const loaded of bundle.policies) {
    const doc = loaded.document;
    const ctx: PolicyContext = {
      nextConstantsName,
      loaded,
      errors,
      declared: Object.keys(doc.tools),
      validators: new Map(),
      environments: new Map(),
      shapes: new Map(),
      maxExpressionCost: doc.evaluation?.maxExpressionCost ?? DEFAULT_MAX_EXPRESSION_COST,
      maxDecisionCost: doc.evaluation?.maxDecisionCost ?? DEFAULT_MAX_DECISION_COST,
    };
    for (const [tool, definition] of Object.entries(doc.tools)) {
      const reserved = reservedNames(definition.args);
      if (reserved.length > 0) {
        report(ctx, 'invalid_args_schema', ['tools', tool, 'args', reserved[0] as string], `argument name '${reserved[0]}' is reserved (it names a built-in object property)`);
        continue;
      }
      try {
        ctx.validators.set(tool, compileSchema(definition));
        ctx.environments.set(tool, environmentForArgs(base, definition.args));
        ctx.shapes.set(tool, variableShapes(definition.args, definition.additionalArgs));
      } catch (error) {
        const where = error instanceof SchemaPatternError && error.path ? error.path : [];
        report(ctx, 'invalid_args_schema', ['tools', tool, 'args', ...where], (error as Error).message);
      }
    }

    const claimId = (id: string, path: (string | number)[]): void => {
      const previous = ids.get(id);
      if (previous) report(ctx, 'duplicate_id', path, `id '${id}' is already used in ${previous}`);
      else ids.set(id, `${loaded.file} (policy ${doc.policy})`);
    };
    const baseRules = doc.rules.map((rule, i) => {
      claimId(rule.id, ['rules', i, 'id']);
      return compileRule(ctx, rule, ['rules', i]);
    });
    const baseLimits = doc.limits.map((limit, i) => {
      claimId(limit.id, ['limits', i, 'id']);
      return compileLimit(ctx, limit, ['limits', i]);
    });

    const novelty = (doc.signals?.novelty ?? []).map((signal, i) => {
      claimId(signal.id, ['signals', 'novelty', i, 'id']);
      return compileNovelty(ctx, signal, ['signals', 'novelty', i]);
    });

    (doc.signals?.hours ?? []).forEach((signal, i) => {
      claimId(signal.id, ['signals', 'hours', i, 'id']);
      hours.push(new WorkingHours(signal));
    });

    const views = new Map<string, { rules: typeof baseRules; limits: typeof baseLimits; defaultEffect: Effect; riskTiers: RiskTiers }>();
    views.set(BASE_ENVIRONMENT, { rules: baseRules, limits: baseLimits, defaultEffect: doc.default, riskTiers: doc.riskTiers });
    for (const [environment, override] of Object.entries(doc.environments)) {
      const known = new Set([...doc.rules.map((r) => r.id), ...doc.limits.map((l) => l.id)]);
      override.disable.forEach((id, i) => {
        if (!known.has(id)) {
          report(ctx, 'invalid_policy', ['environments', environment, 'disable', i], `no rule or limit '${id}' in this policy`);
        }
      });
      const disabled = new Set(override.disable);
      const extraRules = override.rules.map((rule, i) => {
        claimId(rule.id, ['environments', environment, 'rules', i, 'id']);
        return compileRule(ctx, rule, ['environments', environment, 'rules', i]);
      });
      const extraLimits = override.limits.map((limit, i) => {
        claimId(limit.id, ['environments', environment, 'limits', i, 'id']);
        return compileLimit(ctx, limit, ['environments', environment, 'limits', i]);
      });
      views.set(environment, {
        rules: [...baseRules.filter((r) => !disabled.has(r.id)), ...extraRules],
        limits: [...baseLimits.filter((l) => !disabled.has(l.id)), ...extraLimits],
        defaultEffect: override.default ?? doc.default,
        riskTiers: override.riskTiers ?? doc.riskTiers,
      });
    }

    for (const role of doc.appliesTo.roles) {
      let byEnvironment = index.get(role);
      if (!byEnvironment) index.set(role, (byEnvironment = new Map()));
      for (const [environment, view] of views) {
        let byTool = byEnvironment.get(environment);
        if (!byTool) byEnvironment.set(environment, (byTool = new Map()));
        for (const tool of ctx.declared) {
          const validate = ctx.validators.get(tool);
          if (!validate) continue;
          const rules = view.rules.flatMap((rule) => rule.forTool.get(tool) ?? []);
          const limits = view.limits.flatMap((limit) => limit.forTool.get(tool) ?? []);
          const signals = novelty.flatMap((signal) => signal.forTool.get(tool) ?? []);
          const cost = [...rules, ...limits, ...signals].reduce((total, item) => total + item.cost, 0);
          checkDecisionCost(ctx, tool, environment, cost, [...rules, ...limits, ...signals], overBudget);
          const plan: ToolPlan = {
            policy: doc.policy,
            tool,
            validate,
            rules,
            match: generateMatcher(rules),
            limits,
            novelty: signals,
            defaultEffect: view.defaultEffect,
            defaultReason: `No rule of policy ${doc.policy} matched ${tool}: default ${view.defaultEffect}`,
            riskTiers: view.riskTiers,
            zeroRisk: Object.freeze({ score: 0, level: riskLevel(0, view.riskTiers) }),
            cost,
            metered: [...rules, ...limits, ...signals].some((item) => item.metered),
            budget: ctx.maxDecisionCost,
          };
          byTool.set(tool, [...(byTool.get(tool) ?? []), plan]);
        }
      }
    }
  }

  // An environment named by one policy's overrides must still see the other policies' base view;
  // the usual environments get their own entry so a lookup hits on the first try.
  for (const byEnvironment of index.values()) {
    for (const usual of USUAL_ENVIRONMENTS) if (!byEnvironment.has(usual)) byEnvironment.set(usual, new Map());
    const baseTools = byEnvironment.get(BASE_ENVIRONMENT);
    for (const [environment, byTool] of byEnvironment) {
      if (environment === BASE_ENVIRONMENT || !baseTools) continue;
      for (const [tool, basePlans] of baseTools) {
        const plans = byTool.get(tool) ?? [];
        const covered = new Set(plans.map((p) => p.policy));
        byTool.set(tool, [...plans, ...basePlans.filter((p) => !covered.has(p.policy))]);
      }
    }
  }

  if (errors.length > 0) throw new PolicyLoadError(errors);
  return { index, policies: bundle.policies.map((p) => p.document.policy), hours };
}

/**
 * Argument names that are also Object.prototype members (`constructor`, `toString`, `__proto__`,
 * …), at any depth. The validator tests presence with `value.name === undefined`, which such a
 * name would pass through the prototype; forbidding them keeps validation fast and exact.
 */
function reservedNames(properties: Record<string, JsonSchema>): string[] {
  const found: string[] = [];
  for (const [name, schema] of Object.entries(properties)) {
    if (name in Object.prototype) found.push(name);
    const nested = schema.properties;
    if (nested && typeof nested === 'object' && !Array.isArray(nested)) found.push(...reservedNames(nested as Record<string, JsonSchema>));
    const items = schema.items as JsonSchema | undefined;
    if (items && typeof items === 'object' && items.properties && typeof items.properties === 'object') {
      found.push(...reservedNames(items.properties as Record<string, JsonSchema>));
    }
  }
  return found;
}

function report(ctx: PolicyContext, code: LoadError['code'], path: (string | number)[], message: string, at?: { offset?: number; detail?: string }): void {
  // With an offset, the position is that character of the expression as written in the file.
  const position = ctx.loaded.position?.(path, at?.offset);
  ctx.errors.push({
    code,
    file: ctx.loaded.file,
    line: position?.line ?? ctx.loaded.locate(path),
    ...(position ? { column: position.column } : {}),
    path: formatPath(path),
    message,
    ...(at?.detail !== undefined ? { detail: at.detail } : {}),
  });
}

/** Exact names must be declared; globs must match at least one declared tool. */
function resolveTools(ctx: PolicyContext, patterns: string[], path: (string | number)[]): string[] {
  const tools = new Set<string>();
  patterns.forEach((pattern, i) => {
    const where = patterns.length === 1 ? path : [...path, i];
    if (!picomatch.scan(pattern).isGlob) {
      if (ctx.declared.includes(pattern)) tools.add(pattern);
      else report(ctx, 'unknown_tool_reference', where, `tool '${pattern}' is not declared under tools:`);
      return;
    }
    const isMatch = picomatch(pattern);
    const matches = ctx.declared.filter((tool) => isMatch(tool));
    if (matches.length === 0) report(ctx, 'unknown_tool_reference', where, `glob '${pattern}' matches no declared tool`);
    for (const tool of matches) tools.add(tool);
  });
  return [...tools];
}

type Expected = 'bool' | 'number' | 'list' | 'scalar';

/** A compiled expression with its estimated worst-case evaluation cost. */
type CostedCondition = ConditionSource & { cost: number; metered: boolean };

/**
 * Type-checks an expression against the tool, estimates its cost and generates its code; reports
 * and returns undefined on error.
 */
function compileExpression(
  ctx: PolicyContext,
  tool: string,
  source: string,
  expected: Expected,
  path: (string | number)[],
): CostedCondition | undefined {
  const env = ctx.environments.get(tool);
  if (!env) return undefined;
  let parsed;
  try {
    parsed = env.parse(source);
  } catch (error) {
    const problem = celSyntaxProblem(error);
    report(ctx, 'cel_syntax', path, problem.message, problem);
    return undefined;
  }
  const checked = parsed.check();
  if (!checked.valid) {
    const args = Object.keys(ctx.loaded.document.tools[tool]?.args ?? {});
    const problem = celTypeProblem(checked.error, { source, tool, args });
    report(ctx, 'cel_type', path, `${problem.message} (checked against tool '${tool}')`, problem);
    return undefined;
  }
  const type = checked.type ?? 'dyn';
  const fits =
    type === 'dyn' ||
    (expected === 'bool' && type === 'bool') ||
    (expected === 'number' && (type === 'int' || type === 'double' || type === 'uint')) ||
    (expected === 'list' && type.startsWith('list')) ||
    (expected === 'scalar' && ['string', 'int', 'double', 'uint', 'bool'].includes(type));
  if (!fits) {
    report(ctx, 'cel_type', path, `expected ${expected}, but '${source}' is ${type} (tool '${tool}')`);
    return undefined;
  }
  try {
    const definition = ctx.loaded.document.tools[tool];
    const declared = Object.keys(definition?.args ?? {});
    const required = new Set((definition?.required ?? declared).filter((name) => declared.includes(name)));
    const generated = generateConditionSource(parsed.ast, env, source, { requiredArgs: required }, ctx.nextConstantsName());
    const { cost, metered } = estimateCost(parsed.ast, ctx.shapes.get(tool) ?? new Map());
    if (cost > ctx.maxExpressionCost) {
      report(
        ctx,
        'cel_cost_exceeded',
        path,
        `${ownerOf(ctx, path)}'${source}' has an estimated cost of ${formatCost(cost)}, over the per-expression budget of ${formatCost(ctx.maxExpressionCost)} (tool '${tool}'). ${COST_HINT}`,
      );
      return undefined;
    }
    return { ...generated, cost, metered };
  } catch (error) {
    const message = firstLine(error);
    // A pattern RE2 rejects names its rule: the author may not recognise the JavaScript-only syntax.
    const owner = error instanceof CelUnsupportedError && /regular expression/.test(message) ? ownerOf(ctx, path) : '';
    report(ctx, error instanceof CelUnsupportedError ? 'cel_unsupported' : 'cel_syntax', path, `${owner}${message}`);
    return undefined;
  }
}

const COST_HINT =
  'Bound what it iterates and scans (maxItems on lists, maxLength on strings), or raise the policy\'s evaluation budgets (docs/policy-format.md, "Evaluation cost").';

/** Cost units as text: grouped digits, or an order of magnitude past 10^15. */
export function formatCost(cost: number): string {
  const rounded = Math.ceil(cost);
  return rounded < 1e15 ? rounded.toLocaleString('en-US') : rounded.toExponential(1);
}

/** `rule 'id': ` for the rule, limit or signal a path lies in ('' when none). */
function ownerOf(ctx: PolicyContext, path: readonly (string | number)[]): string {
  let node: unknown = ctx.loaded.document;
  let owner = '';
  let container: string | number | undefined;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') break;
    node = (node as Record<string | number, unknown>)[segment];
    if (typeof segment === 'number' && node !== null && typeof node === 'object' && typeof (node as { id?: unknown }).id === 'string') {
      const kind = container === 'rules' ? 'rule' : container === 'limits' ? 'limit' : container === 'novelty' ? 'signal' : undefined;
      if (kind) owner = `${kind} '${(node as { id: string }).id}': `;
    }
    container = segment;
  }
  return owner;
}

/** Reports a plan (one policy, tool and environment) whose expressions together exceed the per-decision budget. */
function checkDecisionCost(
  ctx: PolicyContext,
  tool: string,
  environment: string,
  cost: number,
  items: readonly { id: string; cost: number }[],
  reported: Set<string>,
): void {
  if (cost <= ctx.maxDecisionCost) return;
  const key = JSON.stringify([ctx.loaded.file, ctx.loaded.document.policy, tool, environment]);
  if (reported.has(key)) return;
  reported.add(key);
  const top = [...items]
    .sort((a, b) => b.cost - a.cost)
    .slice(0, 3)
    .map((item) => `'${item.id}' ${formatCost(item.cost)}`)
    .join(', ');
  const where = environment === BASE_ENVIRONMENT ? '' : ` in environment '${environment}'`;
  report(
    ctx,
    'cel_cost_exceeded',
    ['tools', tool],
    `a call to '${tool}'${where} has an estimated evaluation cost of ${formatCost(cost)}, over the per-decision budget of ${formatCost(ctx.maxDecisionCost)} (most expensive: ${top}). ${COST_HINT}`,
  );
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

function compileRule(ctx: PolicyContext, rule: RuleDocument, path: (string | number)[]): { id: string; forTool: Map<string, CompiledRule> } {
  const forTool = new Map<string, CompiledRule>();
  const tools = resolveTools(ctx, Array.isArray(rule.tool) ? rule.tool : [rule.tool], [...path, 'tool']);
  const routes = rule.effect === 'require_approval' ? approvalRoutes(ctx, rule, path) : undefined;
  for (const tool of tools) {
    const when = rule.when === undefined ? undefined : compileExpression(ctx, tool, rule.when, 'bool', [...path, 'when']);
    if (rule.when !== undefined && !when) continue;
    const routed = routes && compileApproval(ctx, tool, `rule '${rule.id}'`, rule.approval, routes, path);
    if (routes && !routed) continue;
    const approval = routed?.route;
    const policy = ctx.loaded.document.policy;
    const matchedEntry: MatchedRule = { rule: rule.id, policy };
    if (rule.effect) matchedEntry.effect = rule.effect;
    if (rule.risk) matchedEntry.risk = rule.risk;
    forTool.set(tool, {
      id: rule.id,
      policy,
      effect: rule.effect,
      rank: rule.effect ? EFFECT_RANK[rule.effect] : -1,
      risk: rule.risk ?? 0,
      reason: rule.reason ?? `Rule ${rule.id} (policy ${policy}): ${rule.effect ?? 'risk signal'}`,
      approval,
      when,
      cost: (when?.cost ?? 0) + (routed?.cost ?? 0),
      metered: (when?.metered ?? false) || (routed?.metered ?? false),
      matchedEntry: Object.freeze(matchedEntry),
    });
  }
  return { id: rule.id, forTool };
}

function compileNovelty(ctx: PolicyContext, signal: NoveltySignalDocument, path: (string | number)[]): { forTool: Map<string, CompiledNovelty> } {
  const forTool = new Map<string, CompiledNovelty>();
  for (const tool of resolveTools(ctx, signal.tools, [...path, 'tools'])) {
    const key = signal.key.map((k, i) => compileExpression(ctx, tool, k, 'scalar', [...path, 'key', i]));
    if (key.some((k) => !k)) continue;
    const policy = ctx.loaded.document.policy;
    const parts = key as CostedCondition[];
    forTool.set(tool, {
      id: signal.id,
      key: parts.map(compileConditionSource),
      keyPrefix: `[${JSON.stringify(policy)},${JSON.stringify(signal.id)}`,
      cost: parts.reduce((total, part) => total + part.cost, 0),
      metered: parts.some((part) => part.metered),
    });
  }
  return { forTool };
}

function compileLimit(ctx: PolicyContext, limit: LimitDocument, path: (string | number)[]): { id: string; forTool: Map<string, CompiledLimit> } {
  const forTool = new Map<string, CompiledLimit>();
  const windowMs = parseDuration(limit.window);
  if (windowMs === undefined) {
    report(ctx, 'invalid_duration', [...path, 'window'], `'${limit.window}' is not a duration like 60s, 15m, 24h or 7d`);
  }
  const kind = limitKindOf(limit);
  const routes = limit.effect === 'require_approval' ? approvalRoutes(ctx, limit, path) : undefined;
  for (const tool of resolveTools(ctx, limit.tools, [...path, 'tools'])) {
    const routed = routes && compileApproval(ctx, tool, `limit '${limit.id}'`, limit.approval, routes, path);
    const approval = routed?.route;
    const when = limit.when === undefined ? undefined : compileExpression(ctx, tool, limit.when, 'bool', [...path, 'when']);
    const key = limit.key.map((k, i) => compileExpression(ctx, tool, k, 'scalar', [...path, 'key', i]));
    const measure = limit.sum
      ? compileExpression(ctx, tool, limit.sum, 'number', [...path, 'sum'])
      : limit.items
        ? compileExpression(ctx, tool, limit.items, 'list', [...path, 'items'])
        : undefined;
    const failed =
      (limit.when !== undefined && !when) || key.some((k) => !k) || ((limit.sum ?? limit.items) !== undefined && !measure) || (routes !== undefined && !routed);
    if (failed || windowMs === undefined) continue;
    const policy = ctx.loaded.document.policy;
    forTool.set(tool, {
      id: limit.id,
      policy,
      kind,
      when: when && compileConditionSource(when),
      key: (key as CostedCondition[]).map(compileConditionSource),
      keyPrefix: `[${JSON.stringify(policy)},${JSON.stringify(limit.id)}`,
      measure: measure && compileConditionSource(measure),
      max: limit.max,
      window: limit.window,
      windowMs,
      effect: limit.effect,
      reason: limit.reason,
      approval,
      cost: [when, measure, ...key].reduce((total, part) => total + (part?.cost ?? 0), 0) + (routed?.cost ?? 0),
      metered: [when, measure, ...key].some((part) => part?.metered) || (routed?.metered ?? false),
    });
  }
  return { id: limit.id, forTool };
}

/**
 * The static part of a rule's or limit's approval route (tiers, durations), checked once for all
 * its tools. `approvers: [g]` is a one-tier route; neither is a route any approver may decide.
 * Undefined when the route is invalid (reported).
 */
function approvalRoutes(
  ctx: PolicyContext,
  item: { approvers?: string[] | undefined; approval?: ApprovalRouteDocument | undefined },
  path: (string | number)[],
): ApprovalRouteState | undefined {
  const route = item.approval;
  if (!route) {
    const name = item.approvers ? 'tier-1' : 'default';
    return { routes: routesFor([{ name, approvers: item.approvers ?? [], required: 1, timeout: null, onTimeout: 'block' }], null), conditions: [undefined] };
  }
  const where = [...path, 'approval'];
  let valid = true;
  const duration = (text: string | undefined, at: (string | number)[]): number | undefined => {
    if (text === undefined) return undefined;
    const ms = parseDuration(text);
    if (ms === undefined) {
      report(ctx, 'invalid_duration', at, `'${text}' is not a duration like 60s, 15m, 24h or 7d`);
      valid = false;
    }
    return ms;
  };
  const expiresMs = duration(route.expiresIn, [...where, 'expiresIn']);
  const defaultTimeoutMs = duration(route.timeout, [...where, 'timeout']);
  const documents = route.tiers ?? [{ approvers: route.approvers ?? [] }];
  const tierPath = (i: number): (string | number)[] => (route.tiers ? [...where, 'tiers', i] : where);
  const names = new Set<string>();
  const specs: TierSpec[] = documents.map((tier, i) => {
    const name = 'name' in tier && tier.name !== undefined ? tier.name : `tier-${i + 1}`;
    if (names.has(name)) {
      report(ctx, 'invalid_policy', [...tierPath(i), 'name'], `tier name '${name}' is used twice in this route`);
      valid = false;
    }
    names.add(name);
    const timeout = ('timeout' in tier ? tier.timeout : undefined) ?? route.timeout;
    const timeoutMs = 'timeout' in tier && tier.timeout !== undefined ? duration(tier.timeout, [...tierPath(i), 'timeout']) : defaultTimeoutMs;
    if (timeoutMs !== undefined && expiresMs !== undefined && timeoutMs > expiresMs) {
      report(ctx, 'invalid_policy', [...tierPath(i), 'timeout'], `timeout ${timeout} is longer than expiresIn ${route.expiresIn}: the approval would expire first`);
      valid = false;
    }
    const onTimeout = ('onTimeout' in tier ? tier.onTimeout : undefined) ?? route.onTimeout ?? 'block';
    return { name, approvers: tier.approvers, required: ('required' in tier ? tier.required : undefined) ?? route.required ?? 1, timeout: timeout ?? null, onTimeout };
  });
  const conditions = documents.map((tier) => ('when' in tier ? tier.when : undefined));
  const last = documents.length - 1;
  if (conditions[last] !== undefined) {
    report(ctx, 'invalid_policy', [...tierPath(last), 'when'], 'the last tier takes every call no earlier tier took: it has no `when`');
    valid = false;
  }
  return valid ? { routes: routesFor(specs, route.expiresIn ?? null), conditions } : undefined;
}

interface ApprovalRouteState {
  routes: CompiledRoute['routes'];
  /** The tiers' `when` sources, compiled per tool. */
  conditions: (string | undefined)[];
}

/** The route for one tool: tier conditions type-checked against that tool's arguments. */
function compileApproval(
  ctx: PolicyContext,
  tool: string,
  owner: string,
  route: ApprovalRouteDocument | undefined,
  state: ApprovalRouteState,
  path: (string | number)[],
): { route: CompiledRoute; cost: number; metered: boolean } | undefined {
  const conditions: CompiledRoute['conditions'] = [];
  const sources: NonNullable<CompiledRoute['sources']> = [];
  let valid = true;
  let cost = 0;
  let metered = false;
  state.conditions.forEach((source, i) => {
    if (source === undefined) {
      conditions.push(undefined);
      sources.push(undefined);
      return;
    }
    const at = route?.tiers ? [...path, 'approval', 'tiers', i, 'when'] : [...path, 'approval', 'when'];
    const compiled = compileExpression(ctx, tool, source, 'bool', at);
    if (!compiled) valid = false;
    cost += compiled?.cost ?? 0;
    metered ||= compiled?.metered ?? false;
    conditions.push(compiled && compileConditionSource(compiled));
    sources.push(compiled);
  });
  return valid ? { route: { conditions, sources, routes: state.routes, owner }, cost, metered } : undefined;
}
