import type { DecisionRequest } from '@airlock/core';
import type { Random } from '../prng.js';

/** One call of a scenario's traffic: the request, and how long after the previous call it comes. */
export interface ScenarioCall {
  request: DecisionRequest;
  gapMs: number;
}

/** Realistic traffic for one seed policy (examples/policies/<policy>.yaml). */
export interface SeedScenario {
  policy: string;
  seed: number;
  /** What the traffic looks like, for the report. */
  traffic: string;
  calls(random: Random, count: number): ScenarioCall[];
}
