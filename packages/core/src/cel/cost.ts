import { RE2JS } from 're2js';

/**
 * The cost model of CEL evaluation (docs/policy-format.md, "Evaluation cost"), shared by the
 * static estimate (estimate.ts, at load) and the runtime meter (compile.ts, per decision).
 *
 * One cost unit is about the work of one comprehension iteration with a small body, roughly
 * 50 ns on the reference machine. Work proportional to a string's length is charged per UTF-16
 * code unit; a regular expression per subject code unit, times the weight of its RE2 program
 * (RE2 runs in time linear in the subject, times the program it simulates).
 */

/** Per element a comprehension (`all`, `exists`, `exists_one`, `filter`, `map`) visits. */
export const ITERATION_COST = 1;
/** Per UTF-16 code unit of a string scanned, compared, copied or counted. */
export const CHAR_COST = 0.02;
/** Per element of a list or map compared, searched or copied (`==`, `in`, `+`). */
export const ELEMENT_COST = 1;
/** Per subject code unit of `matches`, whatever the pattern… */
export const REGEX_CHAR_COST = 0.25;
/** … plus this many code units of the subject per unit of program weight (see regexWeight). */
export const REGEX_WEIGHT_DIVISOR = 128;
/** Per pattern code unit of a pattern compiled at decision time (not a literal). */
export const REGEX_COMPILE_COST = 2_000;
/**
 * The program weight assumed per pattern code unit for a pattern only known at decision time.
 * Ordinary patterns weigh less; one that weighs more (a large class repeated, `\pL{1000}`) is
 * charged its real weight before it runs, and stopped by the decision's budget.
 */
export const ASSUMED_WEIGHT_PER_PATTERN_CHAR = 64;

/** Default budgets, per policy (the `evaluation:` block of a policy document overrides them). */
export const DEFAULT_MAX_EXPRESSION_COST = 100_000;
export const DEFAULT_MAX_DECISION_COST = 100_000;

/** What a decision may still spend; carried by the activation under METER. */
export interface Meter {
  left: number;
  readonly budget: number;
}

/** The activation property holding the decision's meter (a symbol: no CEL name can reach it). */
export const METER: unique symbol = Symbol('airlock.meter');

/** Raised when a decision spends more than its evaluation budget; never caught by CEL's `&&`/`||`. */
export class EvaluationLimitError extends Error {
  constructor(readonly budget: number) {
    super(`evaluation stopped: the decision spent more than its budget of ${budget} cost units`);
    this.name = 'EvaluationLimitError';
  }
}

/** Charges work to the activation's meter, if it has one; throws once the budget is spent. */
export function charge(activation: object, units: number): void {
  const meter = (activation as { [METER]?: Meter })[METER];
  if (meter !== undefined && (meter.left -= units) < 0) throw new EvaluationLimitError(meter.budget);
}

/**
 * The weight of a compiled RE2 program: one per instruction, plus one per range of each character
 * class (re2js tests a class range by range, so `\pL` weighs ~700 per instruction).
 */
export function regexWeight(pattern: RE2JS): number {
  const prog = (pattern.re2Input as unknown as { prog?: { inst?: { runes?: ArrayLike<number> | null }[] } }).prog;
  const instructions = prog?.inst;
  if (!Array.isArray(instructions)) return pattern.programSize() * 1000; // unknown layout: pessimistic
  let weight = 0;
  for (const inst of instructions) weight += 1 + (inst.runes ? Math.ceil(inst.runes.length / 2) : 0);
  return weight;
}

/** The cost of running a pattern of `weight` over a subject of `length` code units. */
export function regexRunCost(length: number, weight: number): number {
  return length * (REGEX_CHAR_COST + weight / REGEX_WEIGHT_DIVISOR);
}

/** Compiles a pattern with RE2 semantics (CEL's `matches`); throws RE2's syntax error. */
export function compileRegex(source: string): RE2JS {
  return RE2JS.compile(source);
}
