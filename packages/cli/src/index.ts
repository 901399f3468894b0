export { buildProgram, runCli } from './program.js';
export type { CliIo } from './program.js';
export { evalCommand, evaluateLine } from './commands/eval.js';
export type { EvalOptions } from './commands/eval.js';
export { policyCheckCommand } from './commands/policy-check.js';
export type { PolicyCheckOptions } from './commands/policy-check.js';
export { policyTestCommand } from './commands/policy-test.js';
export type { PolicyTestOptions } from './commands/policy-test.js';
