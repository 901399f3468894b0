import { customerSupport } from './customer-support.js';
import { devops } from './devops.js';
import { finance } from './finance.js';
import { saasWorkflow } from './saas-workflow.js';
import type { SeedScenario } from './seed-scenario.js';

export type { ScenarioCall, SeedScenario } from './seed-scenario.js';

export const SEED_SCENARIOS: readonly SeedScenario[] = [customerSupport, devops, finance, saasWorkflow];
