import { CelRuntimeError } from '../cel/compile.js';
import type { DecisionError } from '../errors.js';
import type { PolicyBundle } from '../policy/load.js';
import type { CounterStore, ConsumeOutcome, LimitCheck } from '../limits/counter-store.js';
import { isSyncCounterStore } from '../limits/counter-store.js';
import { MemoryCounterStore } from '../limits/memory-counter-store.js';
import { BASE_ENVIRONMENT, compileBundle, type CompiledLimit, type CompiledRule, type PlanIndex, type ToolPlan } from './compile-bundle.js';
import { checkArgsSize, checkRequestShape, DEFAULT_ENVIRONMENT, requestTime } from './request.js';
import { RequestActivation } from './activation.js';
import { riskLevel, riskEffect } from './risk.js';
import type { Decision, DecisionRequest, Effect, LimitOutcome, MatchedRule, PolicyRef, RiskLevel } from './types.js';

export interface EngineOptions {
  /** Limit state. Default: a fresh in-memory store. */
  counters?: CounterStore;
  /** Milliseconds since the epoch, for requests without `at`. */
  clock?: () => number;
  /** Version reported in decisions; default: the bundle's content digest. */
  version?: string | number;
}

const RANK: Record<Effect, number> = { allow: 0, require_approval: 1, block: 2 };
import { BUDGET_SCALE } from '../limits/counter-store.js';

/** Everything decided before the limits are consulted. */
interface Evaluation {
  request: DecisionRequest;
  atMs: number;
  matched: MatchedRule[];
  effect: Effect;
  rule: string | null;
  reason: string;
  decidedBy: Decision['decidedBy'];
  approvers: string[] | undefined;
  risk: { score: number; level: RiskLevel };
  policies: string[];
  checks: LimitCheck[];
  checkedLimits: { limit: CompiledLimit; adding: number; scale: number }[];
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
  private readonly index: PlanIndex;
  private readonly counters: CounterStore;
  private readonly clock: () => number;

  constructor(bundle: PolicyBundle, options: EngineOptions = {}) {
    const compiled = compileBundle(bundle);
    this.index = compiled.index;
    this.policies = compiled.policies;
    this.bundle = bundle.name;
    this.version = options.version ?? bundle.digest;
    this.counters = options.counters ?? new MemoryCounterStore();
    this.clock = options.clock ?? Date.now;
  }

  /** Decides synchronously; requires a synchronous counter store (the in-memory one is). */
  decideSync(request: DecisionRequest): Decision {
    try {
      const pending = this.evaluate(request);
      if (!('checks' in pending)) return pending;
      if (pending.checks.length === 0) return this.finish(pending, undefined);
      const counters = this.counters;
      if (!isSyncCounterStore(counters)) {
        return this.failure({ code: 'engine_error', message: 'the counter store is asynchronous: use decide()' });
      }
      return this.finish(pending, counters.checkAndConsumeSync(pending.checks, pending.atMs));
    } catch (error) {
      return this.failure({ code: 'engine_error', message: messageOf(error) });
    }
  }

  async decide(request: DecisionRequest): Promise<Decision> {
    let pending: Evaluation;
    try {
      const evaluation = this.evaluate(request);
      if (!('checks' in evaluation)) return evaluation;
      pending = evaluation;
      if (pending.checks.length === 0) return this.finish(pending, undefined);
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
      return this.finish(pending, outcome);
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

  private ref(policies: string[]): PolicyRef {
    return { bundle: this.bundle, version: this.version, policies };
  }

  private failure(error: DecisionError, atMs?: number): Decision {
    const at = atMs ?? safeNow(this.clock);
    return {
      effect: 'block',
      rule: null,
      reason: error.message,
      decidedBy: 'error',
      matched: [],
      limits: [],
      risk: { score: 0, level: 'low' },
      flagged: false,
      policy: this.ref([]),
      at: new Date(Number.isFinite(at) ? at : 0).toISOString(),
      error,
    };
  }

  /** Rules, risk and the limit checks still to run; or a final decision when nothing else can change it. */
  private evaluate(request: DecisionRequest): Evaluation | Decision {
    const shapeError = checkRequestShape(request);
    if (shapeError) return this.failure(shapeError);
    const atMs = requestTime(request.at, this.clock);
    if (!Number.isFinite(atMs)) {
      return this.failure({ code: 'invalid_request', message: 'at must be an ISO 8601 time or epoch milliseconds', path: 'at' });
    }

    const byEnvironment = this.index.get(request.role);
    if (!byEnvironment) {
      return this.failure({ code: 'no_policy', message: `no policy applies to role '${request.role}'`, path: 'role' }, atMs);
    }
    const environment = request.environment ?? DEFAULT_ENVIRONMENT;
    const byTool = byEnvironment.get(environment) ?? byEnvironment.get(BASE_ENVIRONMENT);
    const plans = byTool?.get(request.tool);
    if (!plans) {
      return this.failure({ code: 'unknown_tool', message: `tool '${request.tool}' is not declared for role '${request.role}'`, path: 'tool' },
        atMs,
      );
    }

    const args = request.args ?? {};
    const sizeError = checkArgsSize(args);
    if (sizeError) return this.failure(sizeError, atMs);
    for (const plan of plans) {
      const argsError = plan.validate(args);
      if (argsError) return this.failure(argsError, atMs);
    }

    const activation = new RequestActivation(request, args, environment, atMs);
    const matched: MatchedRule[] = [];
    let best: PlanResult | undefined;
    for (const plan of plans) {
      const result = evaluatePlan(plan, activation, matched);
      if (typeof result === 'string') {
        return this.failure({ code: 'condition_error', message: result }, atMs);
      }
      if (!best || RANK[result.effect] > RANK[best.effect] || (result.effect === best.effect && result.risk.score > best.risk.score)) {
        best = result;
      }
    }
    const decided = best as PlanResult;
    const evaluation: Evaluation = {
      request,
      atMs,
      matched,
      effect: decided.effect,
      rule: decided.rule,
      reason: decided.reason,
      decidedBy: decided.decidedBy,
      approvers: decided.approvers,
      risk: decided.risk,
      policies: plans.map((p) => p.policy),
      checks: [],
      checkedLimits: [],
    };
    // A call that is blocked already consumes nothing, so its limits are not even consulted.
    if (decided.effect === 'block') return evaluation;

    for (const plan of plans) {
      for (const limit of plan.limits) {
        const check = limitCheck(limit, activation);
        if (typeof check === 'string') return this.failure({ code: 'condition_error', message: check }, atMs);
        if (!check) continue;
        evaluation.checks.push(check.check);
        evaluation.checkedLimits.push({ limit, adding: check.adding, scale: check.scale });
      }
    }
    return evaluation;
  }

  private finish(evaluation: Evaluation, outcome: ConsumeOutcome | undefined): Decision {
    let { effect, rule, reason, decidedBy, approvers } = evaluation;
    const limits: LimitOutcome[] = evaluation.checkedLimits.map(({ limit, adding, scale }, i) => {
      const result = outcome?.results[i];
      const used = (result?.used ?? 0) / scale;
      const exceeded = result?.exceeded ?? false;
      if (exceeded && RANK[limit.effect] > RANK[effect]) {
        effect = limit.effect;
        rule = limit.id;
        decidedBy = 'limit';
        approvers = limit.approvers;
        reason = limit.reason ?? describeLimit(limit, used, adding);
      }
      return {
        limit: limit.id,
        policy: limit.policy,
        kind: limit.kind,
        key: evaluation.checks[i]?.key ?? '',
        used,
        adding,
        max: limit.max,
        window: limit.window,
        exceeded,
        consumed: outcome?.consumed ?? false,
        effect: limit.effect,
      };
    });
    const decision: Decision = {
      effect,
      rule,
      reason,
      decidedBy,
      matched: evaluation.matched,
      limits,
      risk: evaluation.risk,
      flagged: evaluation.risk.level === 'medium' && effect === 'allow',
      policy: this.ref(evaluation.policies),
      at: new Date(evaluation.atMs).toISOString(),
    };
    if (effect === 'require_approval' && approvers) decision.approvers = approvers;
    return decision;
  }
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
function evaluatePlan(plan: ToolPlan, activation: RequestActivation, matched: MatchedRule[]): PlanResult | string {
  let deciding: CompiledRule | undefined;
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
    const entry: MatchedRule = { rule: rule.id, policy: rule.policy };
    if (rule.effect) entry.effect = rule.effect;
    if (rule.risk) entry.risk = rule.risk;
    matched.push(entry);
    score += rule.risk;
    if (rule.effect && (!deciding || RANK[rule.effect] > RANK[deciding.effect as Effect])) deciding = rule;
  }
  const level = riskLevel(score, plan.riskTiers);
  const risk = { score, level };
  const byRisk = riskEffect(level);
  const ruleEffect = deciding?.effect ?? plan.defaultEffect;
  if (RANK[byRisk] > RANK[ruleEffect]) {
    return {
      effect: byRisk,
      rule: null,
      reason: `Risk score ${score} is ${level} (policy ${plan.policy})`,
      decidedBy: 'risk',
      approvers: undefined,
      risk,
    };
  }
  if (deciding) {
    return {
      effect: ruleEffect,
      rule: deciding.id,
      reason: deciding.reason ?? `Rule ${deciding.id} (policy ${plan.policy}): ${ruleEffect}`,
      decidedBy: 'rule',
      approvers: deciding.approvers,
      risk,
    };
  }
  return {
    effect: ruleEffect,
    rule: null,
    reason: `No rule of policy ${plan.policy} matched ${plan.tool}: default ${ruleEffect}`,
    decidedBy: 'default',
    approvers: undefined,
    risk,
  };
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

function safeNow(clock: () => number): number {
  try {
    return clock();
  } catch {
    return Date.now();
  }
}

/** Loads nothing: compiles an already-validated bundle. Throws `PolicyLoadError` for compile errors. */
export function compile(bundle: PolicyBundle, options?: EngineOptions): Engine {
  return new Engine(bundle, options);
}
