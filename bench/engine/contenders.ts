import { fileURLToPath } from 'node:url';
import type { Decision, DecisionRequest, Engine } from '@airlock/core';
import { CEDAR_POLICY_SET_ID, CEDAR_REFUND_POLICIES, cedarCall, cedarOutcome } from './cedar-refund.js';
import { compile, loadBundle, MemoryCounterStore, parseBundle } from './core.js';
import { GENERATED_ROLE, generatedBundleSource, generatedCalls, RULES_PER_TOOL } from './generated-bundle.js';
import { decideRefund } from './hand-written-refund.js';
import { measureAsync, measureSync, type Measurement, type Plan } from './measure.js';
import { assertSameDecisions } from './parity.js';
import { Random } from './prng.js';
import { asReceived } from './received.js';
import { refundCalls, refundPolicySource } from './refund-calls.js';
import { SEED_SCENARIOS, type ScenarioCall, type SeedScenario } from './scenarios/index.js';

export interface Contender {
  id: string;
  label: string;
  /** Extra node flags for its process. */
  nodeFlags: string[];
  /** Checks the contender against the engine, then times it. */
  run(): Promise<Measured>;
}

export interface Measured extends Measurement {
  notes: string[];
}

const FAST: Plan = { batchSize: 10_000, batches: 20, warmupMs: 500, latencySamples: 100_000 };
const CEDAR: Plan = { batchSize: 10_000, batches: 3, warmupMs: 1_000, latencySamples: 7_000 };
const SCENARIO_CALLS = 4096;
const GENERATED_CALLS = 4096;
/** The scenarios' clock starts here and moves by each call's gap. */
const SCENARIO_EPOCH = Date.parse('2026-11-23T00:00:00Z');
const GENERATED_TOOLS = { small: 1, large: 200 } as const;

function effectOf(decision: { effect: string }): string {
  return decision.effect;
}

/** Effect, and what decided it when that is not a rule. */
function outcomeOf(decision: Decision): string {
  if (decision.error) return `${decision.effect} (${decision.error.code})`;
  if (decision.decidedBy === 'limit') return `${decision.effect} (limit)`;
  return decision.effect;
}

function refundEngine(): Engine {
  return compile(parseBundle([refundPolicySource()], 'refund'));
}

function sinceMs(start: bigint): string {
  return (Number(process.hrtime.bigint() - start) / 1e6).toFixed(0);
}

const handWritten: Contender = {
  id: 'hand-written',
  label: 'hand-written JS function (refund)',
  nodeFlags: [],
  async run() {
    const requests = refundCalls().map((c) => c.request);
    const engine = refundEngine();
    assertSameDecisions('hand-written', requests, (r) => engine.decideSync(r), decideRefund);
    return { ...measureSync(requests, decideRefund, effectOf, FAST), notes: [] };
  },
};

const engineSync: Contender = {
  id: 'engine-sync',
  label: 'engine decideSync (refund)',
  nodeFlags: [],
  async run() {
    const requests = refundCalls().map((c) => c.request);
    const engine = refundEngine();
    return { ...measureSync(requests, (r) => engine.decideSync(r), outcomeOf, FAST), notes: [] };
  },
};

const engineAsync: Contender = {
  id: 'engine-async',
  label: 'engine await decide() (refund)',
  nodeFlags: [],
  async run() {
    const requests = refundCalls().map((c) => c.request);
    const engine = refundEngine();
    return { ...(await measureAsync(requests, (r) => engine.decide(r), outcomeOf, FAST)), notes: [] };
  },
};

const cedarWasm: Contender = {
  id: 'cedar',
  label: 'cedar-wasm statefulIsAuthorized (refund)',
  // cedar-wasm intermittently crashes Node 20's V8 (a deoptimizer bug) unless inlining is off.
  nodeFlags: ['--no-turbo-inlining'],
  async run() {
    const cedar = await import('@cedar-policy/cedar-wasm/nodejs');
    const parsed = cedar.preparsePolicySet(CEDAR_POLICY_SET_ID, CEDAR_REFUND_POLICIES);
    if (parsed.type !== 'success') throw new Error(`cedar policies: ${parsed.errors.map((e) => e.message).join('; ')}`);
    const refunds = refundCalls();
    const engine = refundEngine();
    assertSameDecisions(
      'cedar-wasm',
      refunds,
      (refund) => engine.decideSync(refund.request),
      (refund) => cedarOutcome(cedar.statefulIsAuthorized(cedarCall(refund))),
    );
    const calls = refunds.map(cedarCall);
    const measured = measureSync(calls, (call) => cedarOutcome(cedar.statefulIsAuthorized(call)), effectOf, CEDAR);
    return { ...measured, notes: [`cedar ${cedar.getCedarVersion()}`] };
  },
};

function seedScenario(scenario: SeedScenario): Contender {
  return {
    id: `scenario-${scenario.policy}`,
    label: `engine decideSync, ${scenario.policy} scenario`,
    nodeFlags: [],
    async run() {
      // `at` is present from the start, so setting it per call never changes an object's layout.
      const calls = scenario.calls(new Random(scenario.seed), SCENARIO_CALLS).map((call) => ({
        gapMs: call.gapMs,
        request: asReceived({ ...call.request, at: SCENARIO_EPOCH }),
      }));
      const policyFile = fileURLToPath(new URL(`../../examples/policies/${scenario.policy}.yaml`, import.meta.url));
      const engine = compile(loadBundle(policyFile), { counters: new MemoryCounterStore() });
      let clock = SCENARIO_EPOCH;
      // The request clock (`at`) moves on with every call, so limit windows fill and slide.
      const decide = (call: ScenarioCall): Decision => {
        clock += call.gapMs;
        call.request.at = clock;
        return engine.decideSync(call.request);
      };
      const measured = measureSync(calls, decide, outcomeOf, FAST);
      const days = (clock - SCENARIO_EPOCH) / 86_400_000;
      return { ...measured, notes: [scenario.traffic, `request clock covered ${days.toFixed(0)} days`] };
    },
  };
}

function generated(toolCount: number): Contender {
  const rules = toolCount * RULES_PER_TOOL;
  return {
    id: `rules-${rules}`,
    label: `engine decideSync, ${rules.toLocaleString('en-US')}-rule bundle`,
    nodeFlags: [],
    async run() {
      const requests = generatedCalls(GENERATED_CALLS);
      const compileStart = process.hrtime.bigint();
      const engine = compile(parseBundle([generatedBundleSource(toolCount)], `generated-${rules}`));
      const compileMs = sinceMs(compileStart);
      if (toolCount !== GENERATED_TOOLS.small) {
        const reference = compile(parseBundle([generatedBundleSource(GENERATED_TOOLS.small)], 'generated-reference'));
        assertSameDecisions(`${rules}-rule bundle`, requests, (r) => reference.decideSync(r), (r) => engine.decideSync(r));
      }
      const measured = measureSync(requests, (r: DecisionRequest) => engine.decideSync(r), outcomeOf, FAST);
      const tools = `${toolCount} tool${toolCount === 1 ? '' : 's'}`;
      return { ...measured, notes: [`${tools} for role ${GENERATED_ROLE}, parsed and compiled in ${compileMs} ms`] };
    },
  };
}

export const CONTENDERS: readonly Contender[] = [
  handWritten,
  engineSync,
  engineAsync,
  cedarWasm,
  ...SEED_SCENARIOS.map(seedScenario),
  generated(GENERATED_TOOLS.small),
  generated(GENERATED_TOOLS.large),
];
