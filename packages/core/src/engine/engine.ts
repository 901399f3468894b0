import { CelRuntimeError } from '../cel/compile.js';
import { EvaluationLimitError, METER } from '../cel/cost.js';
import type { DecisionError } from '../errors.js';
import type { CounterStore, ConsumeOutcome, LimitCheck, Release } from '../limits/counter-store.js';
import { BUDGET_SCALE, isSyncCounterStore } from '../limits/counter-store.js';
import { MemoryCounterStore } from '../limits/memory-counter-store.js';
import { MemorySeenStore, type SeenStore } from '../limits/seen-store.js';
import type { PolicyBundle } from '../policy/load.js';
import type { WorkingHours } from './working-hours.js';
import { RequestActivation } from './activation.js';
import { sha256Hex } from './canonical.js';
import { BASE_ENVIRONMENT, compileBundle, EFFECT_RANK, type CompiledLimit, type ToolPlan } from './compile-bundle.js';
import { MATCH_ERROR, type MatchScratch } from './plan-matcher.js';
import { DEFAULT_ROUTE, resolveRoute } from './approval-route.js';
import { checkRequestShape, DEFAULT_ENVIRONMENT, isWellFormed, requestTime } from './request.js';
import { generateDecisionFunction, type DecisionFunction } from './decision-function.js';
import { toolReach, type ToolReach } from './reach.js';
import { toolLookup } from './tool-lookup.js';
import { decisionRisk, riskEffect, riskLevel } from './risk.js';
import type { ApprovalRoute, Decision, DecisionRequest, MatchedRule, PolicyRef } from './types.js';

export interface EngineOptions {
  /** Limit state. Default: a fresh in-memory store. */
  counters?: CounterStore;
  /** Milliseconds since the epoch, for requests without `at`. */
  clock?: () => number;
  /** Version reported in decisions; default: the bundle's content digest. */
  version?: string | number;
  /** What novelty signals have seen. Default: a fresh in-memory store. */
  seen?: SeenStore;
  /**
   * Cost units one decision may spend evaluating CEL before it is blocked with `evaluation_limit`.
   * Default: the sum of the `evaluation.maxDecisionCost` of the policies that decide the call
   * (each policy's expressions are estimated under its own at load, so an accepted policy fits).
   */
  evaluationBudget?: number;
  /**
   * Whether plans get a generated decision function (decision-function.ts). Default true; false
   * keeps every call on the general path, which the differential tests compare it with.
   */
  generatedDecisions?: boolean;
}

const RANK = EFFECT_RANK;

/** A call whose rules allowed it (or asked for approval) and whose limits are still to be consulted. */
class PendingLimits {
  readonly checks: LimitCheck[] = [];
  /** Each checked limit, with the route its call would take if that limit asks for approval. */
  readonly checked: { limit: CompiledLimit; adding: number; scale: number; route: Readonly<ApprovalRoute> | undefined }[] = [];
  /** Novelty keys to record if the call ends allowed. */
  novelty: string[] | undefined;
  constructor(
    readonly decision: Decision,
    readonly atMs: number,
  ) {}
}

/**
 * Whether `evaluate` left limit checks to run. A property test, not `instanceof`: a decision has no
 * `checks`, so this is one map check, where `instanceof` walks the decision's prototype chain.
 */
function isPending(result: Decision | PendingLimits): result is PendingLimits {
  return (result as Partial<PendingLimits>).checks !== undefined;
}

/** The plans for one role and environment of a tool, with the policy reference decisions carry. */
interface PlanSet {
  role: string;
  environment: string;
  plans: ToolPlan[];
  ref: PolicyRef;
  /** The decision's evaluation budget; undefined when no expression of these plans is metered. */
  budget: number | undefined;
  /**
   * The policy decision as one generated function (decision-function.ts), when the set is a single
   * policy's plan it can cover; it declines (undefined) whatever the general path must decide.
   */
  decideFast: DecisionFunction | undefined;
  /** Whether any plan has limits (consulted after the policy decision, whichever path made it). */
  hasLimits: boolean;
}

/** Matchers run synchronously and never re-enter the engine, so one scratch object serves all. */
const scratch: MatchScratch = { score: 0, errorRule: -1, error: undefined };

/**
 * The decision engine for one compiled policy version. `decide` is a pure function of the request,
 * the policy and the counter state; it never throws: anything unexpected is a `block` decision
 * carrying an error code.
 */
export class Engine {
  readonly bundle: string;
  readonly version: string | number;
  readonly policies: readonly string[];
  /** Whether any policy declares a novelty signal (so there is history worth restoring). */
  readonly hasNovelty: boolean;
  /** tool → its plan sets, one per role and environment: a call needs one Map lookup and a short scan. */
  private readonly byTool = new Map<string, PlanSet[]>();
  /** `byTool.get`, as a generated comparison when the bundle declares few tools (tool-lookup.ts). */
  private readonly toolSets: (tool: string) => PlanSet[] | undefined;
  private readonly roles = new Set<string>();
  private readonly counters: CounterStore;
  private readonly seen: SeenStore;
  private readonly clock: () => number;
  private readonly noPolicies: PolicyRef;
  private readonly workingHours: readonly WorkingHours[] | undefined;

  constructor(bundle: PolicyBundle, options: EngineOptions = {}) {
    const compiled = compileBundle(bundle);
    this.policies = compiled.policies;
    this.workingHours = compiled.hours.length > 0 ? compiled.hours : undefined;
    this.bundle = bundle.name;
    this.version = options.version ?? bundle.digest;
    this.counters = options.counters ?? new MemoryCounterStore();
    this.seen = options.seen ?? new MemorySeenStore();
    this.clock = options.clock ?? Date.now;
    this.noPolicies = Object.freeze({ bundle: this.bundle, version: this.version, policies: [] as string[] });
    // Environments without overrides share the base view's plan objects: one generated function
    // (and one policy reference, the same content either way) per plan.
    const generated = new Map<ToolPlan, { ref: PolicyRef; decideFast: DecisionFunction | undefined }>();
    for (const [role, byEnvironment] of compiled.index) {
      this.roles.add(role);
      for (const [environment, tools] of byEnvironment) {
        for (const [tool, plans] of tools) {
          const policies = Object.freeze(plans.map((p) => p.policy)) as string[];
          const metered = plans.some((plan) => plan.metered);
          const budget = metered ? (options.evaluationBudget ?? plans.reduce((total, plan) => total + plan.budget, 0)) : undefined;
          let ref: PolicyRef = Object.freeze({ bundle: this.bundle, version: this.version, policies });
          let decideFast: DecisionFunction | undefined;
          const only = plans.length === 1 ? (plans[0] as ToolPlan) : undefined;
          if (only && options.generatedDecisions !== false) {
            let entry = generated.get(only);
            if (!entry) generated.set(only, (entry = { ref, decideFast: generateDecisionFunction(only, ref) }));
            ref = entry.ref;
            decideFast = entry.decideFast;
          }
          const hasLimits = plans.some((plan) => plan.limits.length > 0);
          const set: PlanSet = { role: internalized(role), environment: internalized(environment), plans, ref, budget, decideFast, hasLimits };
          const key = internalized(tool);
          const sets = this.byTool.get(key);
          if (sets) sets.push(set);
          else this.byTool.set(key, [set]);
        }
      }
    }
    this.hasNovelty = [...this.byTool.values()].some((sets) => sets.some((set) => set.plans.some((plan) => plan.novelty.length > 0)));
    // Exact environments first: the usual lookup stops at its first comparison.
    for (const sets of this.byTool.values()) sets.sort((a, b) => Number(a.environment === BASE_ENVIRONMENT) - Number(b.environment === BASE_ENVIRONMENT));
    this.toolSets = toolLookup(this.byTool);
  }

  /** Decides synchronously; requires a synchronous counter store (the in-memory one is). */
  decideSync(request: DecisionRequest): Decision {
    try {
      const result = this.evaluate(request, true);
      if (!isPending(result)) return result;
      const counters = this.counters;
      if (!isSyncCounterStore(counters)) {
        return this.failure({ code: 'engine_error', message: 'the counter store is asynchronous: use decide()' });
      }
      return this.settle(result, counters.checkAndConsumeSync(result.checks, result.atMs));
    } catch (error) {
      return this.thrown(error);
    }
  }

  async decide(request: DecisionRequest): Promise<Decision> {
    let pending: PendingLimits;
    try {
      const result = this.evaluate(request, true);
      if (!isPending(result)) return result;
      pending = result;
    } catch (error) {
      return this.thrown(error);
    }
    let outcome: ConsumeOutcome;
    try {
      outcome = await this.counters.checkAndConsume(pending.checks, pending.atMs);
    } catch (error) {
      return this.failure({ code: 'store_unavailable', message: `limit state unavailable: ${messageOf(error)}` });
    }
    try {
      return this.settle(pending, outcome);
    } catch (error) {
      return this.failure({ code: 'engine_error', message: messageOf(error) });
    }
  }

  /**
   * Decides a call that takes the place of one already charged (an approver's edit of a call waiting
   * for approval): policy and limits, as `decide`, with the limits judged as if `replacing` (the
   * replaced call's consumptions) were released. The call is charged unless it ends blocked; the
   * caller releases `replacing` once the replacement is recorded. Nothing is recorded as seen:
   * the call has not run.
   */
  async decideReplacing(request: DecisionRequest, replacing: readonly Release[]): Promise<Decision> {
    let pending: PendingLimits;
    try {
      const result = this.evaluate(request, false);
      if (!isPending(result)) return result;
      pending = result;
    } catch (error) {
      return this.failure({ code: 'engine_error', message: messageOf(error) });
    }
    let outcome: ConsumeOutcome;
    try {
      outcome = await this.counters.checkAndConsume(pending.checks, pending.atMs, replacing);
    } catch (error) {
      return this.failure({ code: 'store_unavailable', message: `limit state unavailable: ${messageOf(error)}` });
    }
    try {
      return applyLimits(pending, outcome);
    } catch (error) {
      return this.failure({ code: 'engine_error', message: messageOf(error) });
    }
  }

  /**
   * The call judged by the policy alone: argument schema, rules and risk tiers, with the approval
   * route. Limits are neither consulted nor charged (what-if judgments; the server decides an
   * approver's edit with `decideReplacing`).
   */
  evaluatePolicy(request: DecisionRequest): Decision {
    try {
      const result = this.evaluate(request, false);
      return isPending(result) ? result.decision : result;
    } catch (error) {
      return this.thrown(error);
    }
  }

  /**
   * The decision when the policy alone makes it final: no limit to consult or charge and no
   * history signal to read. This is what an edge copy of the engine may answer without the
   * state the server keeps; undefined when the server must decide. Nothing is recorded.
   */
  statelessDecision(request: DecisionRequest): Decision | undefined {
    const set = this.planSet(request.tool, request.role, request.environment ?? DEFAULT_ENVIRONMENT);
    if (set?.plans.some((plan) => plan.novelty.length > 0)) return undefined;
    try {
      const result = this.evaluate(request, false);
      return isPending(result) ? undefined : result;
    } catch {
      return undefined;
    }
  }

  /**
   * Records a call that was approved and then executed: its novelty keys count as seen from now
   * on (an allowed call records its own when it is decided). Returns the keys recorded.
   */
  markExecuted(request: DecisionRequest): string[] {
    const keys = this.noveltyKeys(request);
    if (keys.length > 0) this.seen.add(keys);
    return keys;
  }

  /** The novelty keys of a call (none when no signal covers its tool, or it does not validate). */
  noveltyKeys(request: DecisionRequest): string[] {
    if (checkRequestShape(request)) return [];
    const environment = request.environment ?? DEFAULT_ENVIRONMENT;
    const set = this.planSet(request.tool, request.role, environment);
    if (!set || !set.plans.some((plan) => plan.novelty.length > 0)) return [];
    const args = request.args ?? {};
    if (set.plans.some((plan) => plan.validate(args))) return [];
    const activation = new RequestActivation(request, args, environment, requestTime(request.at), this.clock, this.workingHours);
    if (set.budget !== undefined) activation[METER] = { left: set.budget, budget: set.budget };
    try {
      return noveltyKeysOf(set.plans, activation).map(([, key]) => key);
    } catch {
      return [];
    }
  }

  /** Applies the limit outcome; an allowed call's novelty keys become seen. */
  private settle(pending: PendingLimits, outcome: ConsumeOutcome): Decision {
    const decision = applyLimits(pending, outcome);
    if (decision.effect === 'allow' && pending.novelty) this.seen.add(pending.novelty);
    return decision;
  }

  /**
   * The tools declared for a role in an environment, each with whether any call to it can get
   * through (see ToolReach). A tool not listed is unknown to the role: every call is blocked.
   */
  toolsFor(role: string, environment: string = DEFAULT_ENVIRONMENT): ToolReach[] {
    const tools: ToolReach[] = [];
    for (const tool of this.byTool.keys()) {
      const set = this.planSet(tool, role, environment);
      if (set) tools.push(toolReach(tool, set.plans));
    }
    return tools.sort((a, b) => (a.tool < b.tool ? -1 : a.tool > b.tool ? 1 : 0));
  }

  private planSet(tool: string, role: string, environment: string): PlanSet | undefined {
    const sets = this.toolSets(tool);
    if (sets === undefined) return undefined;
    let base: PlanSet | undefined;
    for (let i = 0; i < sets.length; i++) {
      const set = sets[i] as PlanSet;
      if (set.role !== role) continue;
      if (set.environment === environment) return set;
      if (set.environment === BASE_ENVIRONMENT) base = set;
    }
    return base;
  }

  /** The block for an error thrown while evaluating: a spent budget, or anything unexpected. */
  private thrown(error: unknown): Decision {
    if (error instanceof EvaluationLimitError) return this.failure({ code: 'evaluation_limit', message: error.message });
    return this.failure({ code: 'engine_error', message: messageOf(error) });
  }

  private failure(error: DecisionError): Decision {
    return {
      effect: 'block',
      rule: null,
      reason: error.message,
      decidedBy: 'error',
      matched: [],
      limits: [],
      risk: decisionRisk(0, 'low', 'block', false),
      flagged: false,
      policy: this.noPolicies,
      approvers: undefined,
      approval: undefined,
      error,
    };
  }

  /** The decision, or the limit checks that still have to run before it is final. */
  /** `record`: a call that ends allowed here records its novelty keys (not for what-if evaluations). */
  private evaluate(request: DecisionRequest, record: boolean): Decision | PendingLimits {
    // The usual call in as little code as V8 inlines into decideSync: a well-formed request for a
    // declared (role, environment, tool). Anything else takes `evaluateChecked`, which runs every
    // check again and explains the first that fails, so both routes end in the same decision.
    if (isWellFormed(request)) {
      const at = request.at;
      const atMs = at === undefined ? undefined : requestTime(at);
      if (atMs === undefined || Number.isFinite(atMs)) {
        const environment = request.environment ?? DEFAULT_ENVIRONMENT;
        const set = this.planSet(request.tool, request.role, environment);
        if (set !== undefined) return this.evaluateSet(request, record, set, environment, atMs);
      }
    }
    return this.evaluateChecked(request, record);
  }

  /** `evaluate` for any request: each check in turn, the first failing one as a blocked decision. */
  private evaluateChecked(request: DecisionRequest, record: boolean): Decision | PendingLimits {
    const shapeError = checkRequestShape(request);
    if (shapeError) return this.failure(shapeError);
    const atMs = requestTime(request.at);
    if (atMs !== undefined && !Number.isFinite(atMs)) {
      return this.failure({ code: 'invalid_request', message: 'at must be an ISO 8601 time or epoch milliseconds', path: 'at' });
    }

    // Maps and string comparison, not objects: a role or tool named `constructor` is simply unknown.
    const environment = request.environment ?? DEFAULT_ENVIRONMENT;
    const set = this.planSet(request.tool, request.role, environment);
    if (!set) {
      return this.roles.has(request.role)
        ? this.failure({ code: 'unknown_tool', message: `tool '${request.tool}' is not declared for role '${request.role}'`, path: 'tool' })
        : this.failure({ code: 'no_policy', message: `no policy applies to role '${request.role}'`, path: 'role' });
    }
    return this.evaluateSet(request, record, set, environment, atMs);
  }

  /** A well-formed request's decision by its plan set: the generated function when it answers, else the general path. */
  private evaluateSet(
    request: DecisionRequest,
    record: boolean,
    set: PlanSet,
    environment: string,
    atMs: number | undefined,
  ): Decision | PendingLimits {
    const args = request.args ?? {};
    const decideFast = set.decideFast;
    if (decideFast !== undefined) {
      const decided = decideFast(request, args, environment);
      if (decided !== undefined) {
        // A call that is blocked already consumes nothing, so its limits are not even consulted.
        if (decided.effect === 'block' || !set.hasLimits) return decided;
        return this.limitsAfterGenerated(set, request, args, environment, atMs, decided);
      }
    }
    return this.evaluateGeneral(request, record, set, args, environment, atMs);
  }

  /** The limits of a call the generated function allowed or sent for approval. */
  private limitsAfterGenerated(
    set: PlanSet,
    request: DecisionRequest,
    args: Record<string, unknown>,
    environment: string,
    atMs: number | undefined,
    decided: Decision,
  ): Decision | PendingLimits {
    const activation = new RequestActivation(request, args, environment, atMs, this.clock, this.workingHours);
    if (set.budget !== undefined) activation[METER] = { left: set.budget, budget: set.budget };
    return this.consultLimits(set.plans, activation, decided, undefined);
  }

  /** The general path: every plan's validator, rules, risk tier and novelty signals, then the limits. */
  private evaluateGeneral(
    request: DecisionRequest,
    record: boolean,
    set: PlanSet,
    args: Record<string, unknown>,
    environment: string,
    atMs: number | undefined,
  ): Decision | PendingLimits {
    const plans = set.plans;
    for (const plan of plans) {
      const argsError = plan.validate(args);
      if (argsError) return this.failure(argsError);
    }

    const activation = new RequestActivation(request, args, environment, atMs, this.clock, this.workingHours);
    if (set.budget !== undefined) activation[METER] = { left: set.budget, budget: set.budget };
    let novelty: [string, string][] | undefined;
    if (plans.some((plan) => plan.novelty.length > 0)) {
      try {
        novelty = noveltyKeysOf(plans, activation);
      } catch (error) {
        if (error instanceof CelRuntimeError) return this.failure({ code: 'condition_error', message: `novelty signal: ${error.message}` });
        throw error;
      }
      const values = novelty;
      activation.noveltySource = () => Object.fromEntries(values.map(([id, key]) => [id, !this.seen.has(key)]));
    }
    const matched: Readonly<MatchedRule>[] = [];
    let decision = evaluatePlan(plans[0] as ToolPlan, activation, matched, set.ref);
    for (let i = 1; i < plans.length && typeof decision !== 'string'; i++) {
      const other = evaluatePlan(plans[i] as ToolPlan, activation, matched, set.ref);
      // The strictest policy decides; among equals, the higher risk score explains best.
      if (typeof other === 'string' || RANK[other.effect] > RANK[decision.effect] || (other.effect === decision.effect && other.risk.score > decision.risk.score)) {
        decision = other;
      }
    }
    if (typeof decision === 'string') return this.failure({ code: 'condition_error', message: decision });
    // A call that is blocked already consumes nothing, so its limits are not even consulted.
    if (decision.effect === 'block') return decision;
    const seenKeys = record && novelty ? novelty.map(([, key]) => key) : undefined;
    return this.consultLimits(plans, activation, decision, seenKeys);
  }

  /**
   * The limit checks of a call its rules allowed or sent for approval (still to run against the
   * counters), or the decision itself when no limit applies (an allowed call records `seenKeys`).
   */
  private consultLimits(
    plans: readonly ToolPlan[],
    activation: RequestActivation,
    decision: Decision,
    seenKeys: string[] | undefined,
  ): Decision | PendingLimits {
    let pending: PendingLimits | undefined;
    for (const plan of plans) {
      for (const limit of plan.limits) {
        const check = limitCheck(limit, activation);
        if (typeof check === 'string') return this.failure({ code: 'condition_error', message: check });
        if (!check) continue;
        // Resolved before anything is charged, so a failing tier condition consumes nothing.
        const route = limit.approval && resolveRoute(limit.approval, activation);
        if (typeof route === 'string') return this.failure({ code: 'condition_error', message: route });
        pending ??= new PendingLimits(decision, activation.now());
        pending.novelty = seenKeys;
        pending.checks.push(check.check);
        pending.checked.push({ limit, adding: check.adding, scale: check.scale, route });
      }
    }
    if (pending) return pending;
    if (decision.effect === 'allow' && seenKeys) this.seen.add(seenKeys);
    return decision;
  }
}

/**
 * The same text as V8's internalized (unique) string. Names read from a policy file are fresh
 * strings; requests parsed from JSON carry internalized ones for short values. Comparing two
 * internalized strings is a pointer comparison, equal or not, instead of a character walk.
 */
function internalized(text: string): string {
  return Object.keys({ [text]: true })[0] ?? text;
}

/**
 * Counter and novelty keys carry argument values, and a value may be as long as a request allows
 * (about 1 MB when the tool's schema sets no `maxLength`): an agent sending a new 900 KB account id
 * each call grew the counters by 900 KB a call, each kept for two windows, in memory or in Redis.
 * Past MAX_KEY_CHARS the values are replaced by the SHA-256 of the key: the same values still meet
 * the same counter, and a key stays under 200 characters. `#` marks it: no value part starts with
 * one (strings are JSON-quoted, numbers and booleans are not), so no short key can equal it.
 */
export const MAX_KEY_CHARS = 512;

function boundedKey(prefix: string, key: string): string {
  return key.length <= MAX_KEY_CHARS ? key : `${prefix},#${sha256Hex(key)}]`;
}

/** Each novelty signal covering the call, with its key: the JSON array [policy, id, ...values]. */
function noveltyKeysOf(plans: readonly ToolPlan[], activation: RequestActivation): [string, string][] {
  const keys: [string, string][] = [];
  for (const plan of plans) {
    for (const signal of plan.novelty) {
      let key = signal.keyPrefix;
      for (const part of signal.key) {
        const value = part(activation);
        key += typeof value === 'string' ? `,${JSON.stringify(value)}` : `,${String(value)}`;
      }
      keys.push([signal.id, boundedKey(signal.keyPrefix, `${key}]`)]);
    }
  }
  return keys;
}

/**
 * One policy's answer for the call: the strictest matching rule (or the default), made stricter by
 * the risk tier when it calls for it. A string is a condition error. Matching rules are appended
 * to `matched`, shared by every policy evaluated for the call.
 */
function evaluatePlan(plan: ToolPlan, activation: RequestActivation, matched: Readonly<MatchedRule>[], ref: PolicyRef): Decision | string {
  const index = plan.match(activation, matched, scratch);
  if (index === MATCH_ERROR) {
    // A spent budget stops the whole decision, not just this policy's answer.
    if (scratch.error instanceof EvaluationLimitError) throw scratch.error;
    const rule = plan.rules[scratch.errorRule];
    return `rule '${rule?.id}': ${scratch.error === undefined ? 'condition is not a bool' : messageOf(scratch.error)}`;
  }
  const score = scratch.score;
  const level = score === 0 ? plan.zeroRisk.level : riskLevel(score, plan.riskTiers);
  const deciding = index >= 0 ? plan.rules[index] : undefined;
  const ruleEffect = deciding?.effect ?? plan.defaultEffect;
  const byRisk = level === 'low' || level === 'medium' ? 'allow' : riskEffect(level);
  let approval: Readonly<ApprovalRoute> | undefined;
  if (ruleEffect === 'require_approval') {
    const route = deciding?.approval ? resolveRoute(deciding.approval, activation) : DEFAULT_ROUTE;
    if (typeof route === 'string') return route;
    approval = route;
  }
  const decision: Decision = {
    effect: ruleEffect,
    rule: deciding ? deciding.id : null,
    reason: deciding ? deciding.reason : plan.defaultReason,
    decidedBy: deciding ? 'rule' : 'default',
    matched,
    limits: [],
    risk: plan.zeroRisk, // set below, once the effect is final
    flagged: level === 'medium' && ruleEffect === 'allow' && byRisk === 'allow',
    policy: ref,
    // Always present (undefined unless approval is required) so every decision has one shape.
    approvers: approval?.approvers,
    approval,
  };
  if (byRisk !== 'allow' && RANK[byRisk] > RANK[ruleEffect]) {
    decision.effect = byRisk;
    decision.rule = null;
    decision.reason = `Risk score ${score} is ${level} (policy ${plan.policy})`;
    decision.decidedBy = 'risk';
    decision.approval = byRisk === 'require_approval' ? DEFAULT_ROUTE : undefined;
    decision.approvers = decision.approval?.approvers;
  }
  decision.risk = decisionRisk(score, level, decision.effect, decision.flagged);
  return decision;
}

/** Completes a decision with the counter store's answer: a limit can only make it stricter. */
function applyLimits(pending: PendingLimits, outcome: ConsumeOutcome): Decision {
  const decision = pending.decision;
  const before = decision.effect;
  decision.limits = pending.checked.map(({ limit, adding, scale, route }, i) => {
    const result = outcome.results[i];
    const used = (result?.used ?? 0) / scale;
    const exceeded = result?.exceeded ?? false;
    if (exceeded && RANK[limit.effect] > RANK[decision.effect]) {
      decision.effect = limit.effect;
      decision.rule = limit.id;
      decision.decidedBy = 'limit';
      decision.reason = limit.reason ?? describeLimit(limit, used, adding);
      decision.flagged = false;
      decision.approval = limit.effect === 'require_approval' ? (route ?? DEFAULT_ROUTE) : undefined;
      decision.approvers = decision.approval?.approvers;
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
  // A limit that made the call stricter makes its risk level so too (the score stays).
  if (decision.effect !== before) decision.risk = decisionRisk(decision.risk.score, decision.risk.level, decision.effect, decision.flagged);
  return decision;
}

function limitCheck(
  limit: CompiledLimit,
  activation: RequestActivation,
): { check: LimitCheck; adding: number; scale: number } | undefined | string {
  try {
    if (limit.when && limit.when(activation) !== true) return undefined;
    // The key is the JSON array [policy, id, ...values]; values are scalars (checked at load).
    let key = limit.keyPrefix;
    for (const part of limit.key) {
      const value = part(activation);
      key += typeof value === 'string' ? `,${JSON.stringify(value)}` : `,${String(value)}`;
    }
    key += ']';
    if (key.length > MAX_KEY_CHARS) key = boundedKey(limit.keyPrefix, key);
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
        key,
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

/** Compiles an already-validated bundle. Throws `PolicyLoadError` for compile errors. */
export function compile(bundle: PolicyBundle, options?: EngineOptions): Engine {
  return new Engine(bundle, options);
}
