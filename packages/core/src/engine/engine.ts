import { CelRuntimeError } from '../cel/compile.js';
import type { DecisionError } from '../errors.js';
import type { PolicyBundle } from '../policy/load.js';
import type { CounterStore, ConsumeOutcome, LimitCheck } from '../limits/counter-store.js';
import { isSyncCounterStore } from '../limits/counter-store.js';
import { MemoryCounterStore } from '../limits/memory-counter-store.js';
import { BASE_ENVIRONMENT, compileBundle, EFFECT_RANK, type CompiledLimit, type CompiledRule, type ToolPlan } from './compile-bundle.js';
import { checkRequestShape, DEFAULT_ENVIRONMENT, requestTime } from './request.js';
import { RequestActivation } from './activation.js';
import { riskLevel, riskEffect } from './risk.js';
import type { Decision, DecisionRequest, Effect, MatchedRule, PolicyRef, RiskLevel } from './types.js';

export interface EngineOptions {
  /** Limit state. Default: a fresh in-memory store. */
  counters?: CounterStore;
  /** Milliseconds since the epoch, for requests without `at`. */
  clock?: () => number;
  /** Version reported in decisions; default: the bundle's content digest. */
  version?: string | number;
}

const RANK = EFFECT_RANK;
import { BUDGET_SCALE } from '../limits/counter-store.js';

/** A call whose rules allowed it (or asked for approval) and whose limits are still to be consulted. */
interface PendingLimits {
  decision: Decision;
  atMs: number;
  checks: LimitCheck[];
  checked: { limit: CompiledLimit; adding: number; scale: number }[];
}

/** The plans for one role, environment and tool, with the policy reference decisions carry. */
interface PlanSet {
  plans: ToolPlan[];
  ref: PolicyRef;
}

/**
 * The decision engine for one compiled policy version. `decide` is a pure function of the request,
 * the policy and the counter state; it never throws: anything unexpected is a `block` decision
 * carrying an error code.
 */
export class Engine {
  readonly bundle: string;
  readonly version: string | number;
  readonly policies: readonly string[];
  private readonly index: Map<string, Map<string, Map<string, PlanSet>>>;
  private readonly counters: CounterStore;
  private readonly clock: () => number;
  private readonly noPolicies: PolicyRef;

  constructor(bundle: PolicyBundle, options: EngineOptions = {}) {
    const compiled = compileBundle(bundle);
    this.policies = compiled.policies;
    this.bundle = bundle.name;
    this.version = options.version ?? bundle.digest;
    this.counters = options.counters ?? new MemoryCounterStore();
    this.clock = options.clock ?? Date.now;
    this.noPolicies = Object.freeze({ bundle: this.bundle, version: this.version, policies: [] });
    // Decisions share these read-only references: built once here, not per call.
    this.index = new Map(
      [...compiled.index].map(([role, byEnvironment]) => [
        role,
        new Map(
          [...byEnvironment].map(([environment, byTool]) => [
            environment,
            new Map(
              [...byTool].map(([tool, plans]) => [
                tool,
                { plans, ref: Object.freeze({ bundle: this.bundle, version: this.version, policies: Object.freeze(plans.map((p) => p.policy)) as string[] }) },
              ]),
            ),
          ]),
        ),
      ]),
    );
  }

  /** Decides synchronously; requires a synchronous counter store (the in-memory one is). */
  decideSync(request: DecisionRequest): Decision {
    try {
      const result = this.evaluate(request);
      if (!('checks' in result)) return result;
      const counters = this.counters;
      if (!isSyncCounterStore(counters)) {
        return this.failure({ code: 'engine_error', message: 'the counter store is asynchronous: use decide()' });
      }
      return applyLimits(result, counters.checkAndConsumeSync(result.checks, result.atMs));
    } catch (error) {
      return this.failure({ code: 'engine_error', message: messageOf(error) });
    }
  }

  async decide(request: DecisionRequest): Promise<Decision> {
    let pending: PendingLimits;
    try {
      const result = this.evaluate(request);
      if (!('checks' in result)) return result;
      pending = result;
    } catch (error) {
      return this.failure({ code: 'engine_error', message: messageOf(error) });
    }
    let outcome: ConsumeOutcome;
    try {
      outcome = await this.counters.checkAndConsume(pending.checks, pending.atMs);
    } catch (error) {
      return this.failure({ code: 'store_unavailable', message: `limit state unavailable: ${messageOf(error)}` });
    }
    try {
      return applyLimits(pending, outcome);
    } catch (error) {
      return this.failure({ code: 'engine_error', message: messageOf(error) });
    }
  }

  /** Tools declared for a role in an environment, for adapters that list or filter tools. */
  toolsFor(role: string, environment = DEFAULT_ENVIRONMENT): string[] {
    const byEnvironment = this.index.get(role);
    const byTool = byEnvironment?.get(environment) ?? byEnvironment?.get(BASE_ENVIRONMENT);
    return byTool ? [...byTool.keys()] : [];
  }

  private failure(error: DecisionError): Decision {
    return {
      effect: 'block',
      rule: null,
      reason: error.message,
      decidedBy: 'error',
      matched: [],
      limits: [],
      risk: { score: 0, level: 'low' },
      flagged: false,
      policy: this.noPolicies,
      error,
    };
  }

  /** The decision, or the limit checks that still have to run before it is final. */
  private evaluate(request: DecisionRequest): Decision | PendingLimits {
    const shapeError = checkRequestShape(request);
    if (shapeError) return this.failure(shapeError);
    const atMs = requestTime(request.at);
    if (atMs !== undefined && !Number.isFinite(atMs)) {
      return this.failure({ code: 'invalid_request', message: 'at must be an ISO 8601 time or epoch milliseconds', path: 'at' });
    }

    // Maps, not objects: a role or tool named `constructor` or `__proto__` is simply unknown.
    const byEnvironment = this.index.get(request.role);
    if (!byEnvironment) {
      return this.failure({ code: 'no_policy', message: `no policy applies to role '${request.role}'`, path: 'role' });
    }
    const environment = request.environment ?? DEFAULT_ENVIRONMENT;
    const byTool = byEnvironment.get(environment) ?? byEnvironment.get(BASE_ENVIRONMENT);
    const planSet = byTool?.get(request.tool);
    if (!planSet) {
      return this.failure({ code: 'unknown_tool', message: `tool '${request.tool}' is not declared for role '${request.role}'`, path: 'tool' });
    }
    const plans = planSet.plans;

    const args = request.args ?? {};
    for (const plan of plans) {
      const argsError = plan.validate(args);
      if (argsError) return this.failure(argsError);
    }

    const activation = new RequestActivation(request, args, environment, atMs, this.clock);
    const matched: Readonly<MatchedRule>[] = [];
    let best: PlanResult | undefined;
    for (const plan of plans) {
      const result = evaluatePlan(plan, activation, matched);
      if (typeof result === 'string') return this.failure({ code: 'condition_error', message: result });
      if (!best || RANK[result.effect] > RANK[best.effect] || (result.effect === best.effect && result.risk.score > best.risk.score)) {
        best = result;
      }
    }
    const decided = best as PlanResult;
    const decision: Decision = {
      effect: decided.effect,
      rule: decided.rule,
      reason: decided.reason,
      decidedBy: decided.decidedBy,
      matched,
      limits: [],
      risk: decided.risk,
      flagged: decided.risk.level === 'medium' && decided.effect === 'allow',
      policy: planSet.ref,
      // Always present (undefined unless approval is required) so every decision has one shape.
      approvers: decided.effect === 'require_approval' ? decided.approvers : undefined,
    };
    // A call that is blocked already consumes nothing, so its limits are not even consulted.
    if (decided.effect === 'block') return decision;

    let pending: PendingLimits | undefined;
    for (const plan of plans) {
      for (const limit of plan.limits) {
        const check = limitCheck(limit, activation);
        if (typeof check === 'string') return this.failure({ code: 'condition_error', message: check });
        if (!check) continue;
        pending ??= { decision, atMs: activation.now(), checks: [], checked: [] };
        pending.checks.push(check.check);
        pending.checked.push({ limit, adding: check.adding, scale: check.scale });
      }
    }
    return pending ?? decision;
  }
}

/** Completes a decision with the counter store's answer: a limit can only make it stricter. */
function applyLimits(pending: PendingLimits, outcome: ConsumeOutcome): Decision {
  const decision = pending.decision;
  decision.limits = pending.checked.map(({ limit, adding, scale }, i) => {
    const result = outcome.results[i];
    const used = (result?.used ?? 0) / scale;
    const exceeded = result?.exceeded ?? false;
    if (exceeded && RANK[limit.effect] > RANK[decision.effect]) {
      decision.effect = limit.effect;
      decision.rule = limit.id;
      decision.decidedBy = 'limit';
      decision.reason = limit.reason ?? describeLimit(limit, used, adding);
      decision.flagged = false;
      decision.approvers = limit.effect === 'require_approval' ? limit.approvers : undefined;
    }
    return {
      limit: limit.id,
      policy: limit.policy,
      kind: limit.kind,
      key: pending.checks[i]?.key ?? '',
      used,
      adding,
      max: limit.max,
      window: limit.window,
      exceeded,
      consumed: outcome.consumed,
      effect: limit.effect,
    };
  });
  return decision;
}

interface PlanResult {
  effect: Effect;
  rule: string | null;
  reason: string;
  decidedBy: Decision['decidedBy'];
  approvers: string[] | undefined;
  risk: { score: number; level: RiskLevel };
}

/** Runs one policy's rules for the call; a string is a condition error. */
function evaluatePlan(plan: ToolPlan, activation: RequestActivation, matched: Readonly<MatchedRule>[]): PlanResult | string {
  let deciding: CompiledRule | undefined;
  let decidingRank = -1;
  let score = 0;
  for (const rule of plan.rules) {
    if (rule.when) {
      let result: unknown;
      try {
        result = rule.when(activation);
      } catch (error) {
        return `rule '${rule.id}': ${messageOf(error)}`;
      }
      if (result !== true) {
        if (result !== false) return `rule '${rule.id}': condition is not a bool`;
        continue;
      }
    }
    matched.push(rule.matchedEntry);
    score += rule.risk;
    if (rule.rank > decidingRank) {
      deciding = rule;
      decidingRank = rule.rank;
    }
  }
  const level = riskLevel(score, plan.riskTiers);
  const risk = { score, level };
  const byRisk = riskEffect(level);
  const ruleEffect = deciding?.effect ?? plan.defaultEffect;
  if (RANK[byRisk] > RANK[ruleEffect]) {
    return { effect: byRisk, rule: null, reason: `Risk score ${score} is ${level} (policy ${plan.policy})`, decidedBy: 'risk', approvers: undefined, risk };
  }
  if (deciding) {
    return { effect: ruleEffect, rule: deciding.id, reason: deciding.reason, decidedBy: 'rule', approvers: deciding.approvers, risk };
  }
  return { effect: ruleEffect, rule: null, reason: plan.defaultReason, decidedBy: 'default', approvers: undefined, risk };
}

function limitCheck(
  limit: CompiledLimit,
  activation: RequestActivation,
): { check: LimitCheck; adding: number; scale: number } | undefined | string {
  try {
    if (limit.when && limit.when(activation) !== true) return undefined;
    const keyValues = limit.key.map((k) => k(activation));
    let adding = 1;
    let scale = 1;
    if (limit.kind === 'budget') {
      const value = (limit.measure as NonNullable<CompiledLimit['measure']>)(activation);
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        return `limit '${limit.id}': sum must be a finite non-negative number`;
      }
      adding = value;
      scale = BUDGET_SCALE;
    } else if (limit.kind === 'blast_radius') {
      const value = (limit.measure as NonNullable<CompiledLimit['measure']>)(activation);
      if (!Array.isArray(value)) return `limit '${limit.id}': items must be a list`;
      adding = value.length;
    }
    return {
      check: {
        key: JSON.stringify([limit.policy, limit.id, ...keyValues]),
        windowMs: limit.windowMs,
        max: Math.round(limit.max * scale),
        amount: Math.round(adding * scale),
        blocking: limit.effect === 'block',
      },
      adding,
      scale,
    };
  } catch (error) {
    if (error instanceof CelRuntimeError) return `limit '${limit.id}': ${error.message}`;
    throw error;
  }
}

function describeLimit(limit: CompiledLimit, used: number, adding: number): string {
  const unit = limit.kind === 'rate' ? 'calls' : limit.kind === 'budget' ? 'total' : 'items';
  return `Limit ${limit.id}: ${round(used + adding)} ${unit} would exceed ${limit.max} per ${limit.window}`;
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Loads nothing: compiles an already-validated bundle. Throws `PolicyLoadError` for compile errors. */
export function compile(bundle: PolicyBundle, options?: EngineOptions): Engine {
  return new Engine(bundle, options);
}
