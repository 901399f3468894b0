import { compile, type Engine } from '../engine/engine.js';
import type { DecisionRequest, Effect } from '../engine/types.js';
import type { DecisionErrorCode } from '../errors.js';
import type { ConsumeOutcome, LimitCheck, SyncCounterStore } from '../limits/counter-store.js';
import { MemoryCounterStore } from '../limits/memory-counter-store.js';
import { MemorySeenStore, type SeenStore } from '../limits/seen-store.js';
import { parseDuration } from '../duration.js';
import type { PolicyBundle } from '../policy/load.js';
import type { LoadedSuite } from './load-suite.js';
import type { ApprovalExpectation, Expectation, PolicySuite, TestCase, TestStep } from './suite-schema.js';

/** What a call actually decided, in the terms an expectation is written in. */
export interface ActualOutcome {
  effect: Effect;
  rule: string | null;
  code?: DecisionErrorCode;
  /** The starting tier of a require_approval decision's route. */
  approval?: { tier: string; approvers: string[]; required: number };
}

export type CheckedField = 'effect' | 'rule' | 'code' | 'approval';

/** One call of a case against its expectation. */
export interface CallResult {
  /** 1-based step of the case, and 1-based repetition of that step. */
  step: number;
  repetition: number;
  repeat: number;
  request: DecisionRequest;
  expected: Expectation;
  actual: ActualOutcome;
  reason: string;
  /** Fields where the decision differs from the expectation; empty when the call passed. */
  mismatched: CheckedField[];
}

export interface CaseResult {
  name: string;
  /** Line of the case in the suite file. */
  line: number | undefined;
  passed: boolean;
  /** Steps in the case (an inline case is one step). */
  steps: number;
  /** Calls made: a case stops at its first failing call, whose state the later steps depend on. */
  calls: number;
  /** The failing call, or the last call of a passing case. */
  last: CallResult;
}

export interface SuiteResult {
  suite: string;
  file: string;
  cases: CaseResult[];
  passed: number;
  failed: number;
}

/**
 * Runs suites against one bundle, compiled once. Every case starts from empty limit state; the
 * steps of a case share theirs, in order. Throws `PolicyLoadError` when the bundle does not compile.
 */
export async function runSuites(bundle: PolicyBundle, suites: readonly LoadedSuite[]): Promise<SuiteResult[]> {
  const counters = new ResettableCounterStore();
  const seen = new ResettableSeenStore();
  const engine = compile(bundle, { counters, seen });
  const results: SuiteResult[] = [];
  for (const loaded of suites) {
    const cases: CaseResult[] = [];
    for (const [i, testCase] of loaded.suite.cases.entries()) {
      counters.reset();
      seen.reset();
      cases.push(await runCase(engine, loaded.suite, testCase, loaded.locate(['cases', i])));
    }
    const passed = cases.filter((c) => c.passed).length;
    results.push({ suite: loaded.suite.suite, file: loaded.file, cases, passed, failed: cases.length - passed });
  }
  return results;
}

async function runCase(engine: Engine, suite: PolicySuite, testCase: TestCase, line: number | undefined): Promise<CaseResult> {
  const steps = stepsOf(testCase);
  let calls = 0;
  let last: CallResult | undefined;
  for (const [s, step] of steps.entries()) {
    const start = step.at === undefined ? undefined : Date.parse(step.at);
    const spacing = step.every === undefined ? 0 : (parseDuration(step.every) as number);
    for (let r = 0; r < step.repeat; r++) {
      // The suite schema has checked that `agent` and `role` come from the request or the defaults.
      const request = { ...suite.defaults, ...step.request } as DecisionRequest;
      if (start !== undefined) request.at = new Date(start + r * spacing).toISOString();
      const decision = await engine.decide(request);
      if (step.executed) engine.markExecuted(request);
      calls++;
      const actual: ActualOutcome = { effect: decision.effect, rule: decision.rule };
      if (decision.error) actual.code = decision.error.code;
      if (decision.approval) actual.approval = { tier: decision.approval.tier, approvers: [...decision.approval.approvers], required: decision.approval.required };
      const mismatched = compare(step.expect, actual);
      last = { step: s + 1, repetition: r + 1, repeat: step.repeat, request, expected: step.expect, actual, reason: decision.reason, mismatched };
      if (mismatched.length > 0) return { name: testCase.name, line, passed: false, steps: steps.length, calls, last };
    }
  }
  // The schema guarantees at least one step with at least one repetition.
  return { name: testCase.name, line, passed: true, steps: steps.length, calls, last: last as CallResult };
}

/** The inline form is a one-step case; without `steps` the schema has required `request` and `expect`. */
function stepsOf(testCase: TestCase): TestStep[] {
  if (testCase.steps) return testCase.steps;
  const { request, at, repeat, every, expect } = testCase;
  return [{ request: request as TestStep['request'], at, repeat: repeat ?? 1, every, expect: expect as Expectation, executed: undefined }];
}

function compare(expected: Expectation, actual: ActualOutcome): CheckedField[] {
  const mismatched: CheckedField[] = [];
  if (expected.effect !== actual.effect) mismatched.push('effect');
  if (expected.rule !== undefined && expected.rule !== actual.rule) mismatched.push('rule');
  // An absent `code` expects no error, so a block for bad input never passes as a block by policy.
  if (expected.code !== actual.code) mismatched.push('code');
  if (expected.approval && !routeMatches(expected.approval, actual.approval)) mismatched.push('approval');
  return mismatched;
}

/** Only the route fields the expectation states are compared. */
function routeMatches(expected: ApprovalExpectation, actual: ActualOutcome['approval']): boolean {
  if (!actual) return false;
  if (expected.tier !== undefined && expected.tier !== actual.tier) return false;
  if (expected.required !== undefined && expected.required !== actual.required) return false;
  return expected.approvers === undefined || JSON.stringify(expected.approvers) === JSON.stringify(actual.approvers);
}

/** Lets one compiled engine give every case fresh novelty state. */
class ResettableSeenStore implements SeenStore {
  private store = new MemorySeenStore();

  reset(): void {
    this.store = new MemorySeenStore();
  }

  has(key: string): boolean {
    return this.store.has(key);
  }

  add(keys: readonly string[]): void {
    this.store.add(keys);
  }
}

/** Lets one compiled engine give every case a fresh, empty limit state. */
class ResettableCounterStore implements SyncCounterStore {
  private store = new MemoryCounterStore();

  reset(): void {
    this.store = new MemoryCounterStore();
  }

  checkAndConsumeSync(checks: readonly LimitCheck[], atMs: number): ConsumeOutcome {
    return this.store.checkAndConsumeSync(checks, atMs);
  }

  checkAndConsume(checks: readonly LimitCheck[], atMs: number): Promise<ConsumeOutcome> {
    return this.store.checkAndConsume(checks, atMs);
  }
}
