import type { Effect, RiskTiers } from '../policy/document.js';
import { EFFECT_RANK } from '../engine/compile-bundle.js';
import { riskEffect, riskLevel } from '../engine/risk.js';
import type { Atom, AtomTable } from './abstract.js';
import { ERROR, evaluate, FALSE, TRUE, values, type Formula, type Truth } from './formula.js';
import { discretePieces, numberPieces, PRESENCE_PIECES, type Piece } from './pieces.js';
import type { Scalar, Term } from './terms.js';

/**
 * Splits one tool's argument space (in one slice: role, environment) into cells: the product of
 * every term's pieces. Within a cell every atom has one truth value, so every condition does, and
 * the engine's decision can be worked out exactly as `Engine.decide` would: strictest matching
 * rule per policy (first among equals), else the policy default, raised by the risk tier; the
 * strictest policy wins, among equals the higher risk score, then the first.
 */

export interface Dimension {
  /** The term, or the top-level argument whose presence this dimension is. */
  term: Term | undefined;
  arg: string;
  pieces: readonly Piece[];
  /** Index of the presence dimension of the term's optional argument. */
  presence: number | undefined;
}

export interface RuleModel {
  id: string;
  policy: string;
  effect: Effect | undefined;
  risk: number;
  formula: Formula;
}

export interface PlanModel {
  policy: string;
  defaultEffect: Effect;
  riskTiers: RiskTiers;
  rules: RuleModel[];
}

/** What the engine decides in a cell (limits aside: they are stateful and only make it stricter). */
export interface Outcome {
  effect: Effect;
  decidedBy: 'rule' | 'default' | 'risk' | 'error';
  rule: string | null;
  policy: string | null;
  /** No rule with an effect matched in the deciding policy: its default (maybe raised by risk) decides. */
  fellThrough: boolean;
}

export interface Cell {
  /** Piece index per dimension; -1 where the dimension does not apply (its argument is absent). */
  coords: Int32Array;
  /** Every outcome the cell may have; undefined when too many conditions are unknown to list them. */
  outcomes: Outcome[] | undefined;
  /** Truth of each plan's rules, by plan then rule. */
  truths: Truth[][];
}

/** Cells beyond which a tool is reported as not analysed rather than enumerated. */
export const MAX_CELLS = 100_000;
/** Unknown rule values enumerated per cell (2^n combinations at most 3^n). */
const MAX_UNKNOWN_RULES = 8;

export function dimensions(table: AtomTable): Dimension[] {
  const constants = new Map<number, Set<number | Scalar>>();
  for (const atom of table.atoms) {
    if (atom.kind === 'present') continue;
    const set = constants.get(atom.term) ?? new Set();
    for (const v of atom.kind === 'compare' ? [atom.value] : atom.values) set.add(v);
    constants.set(atom.term, set);
  }
  // Presence dimensions come first: a term's cells depend on whether its argument is there.
  const dims: Dimension[] = [];
  const presence = new Map<string, number>();
  for (const arg of table.optionalArgs) {
    presence.set(arg, dims.length);
    dims.push({ term: undefined, arg, pieces: PRESENCE_PIECES, presence: undefined });
  }
  // Numbers first: a finding then reads as a range, qualified by the other arguments.
  const used = table.terms.filter((t) => constants.has(t.id)).sort((a, b) => Number(a.kind !== 'number') - Number(b.kind !== 'number'));
  for (const term of used) {
    const named = [...(constants.get(term.id) ?? [])];
    const pieces =
      term.kind === 'number'
        ? numberPieces(term.domain, named.filter((v): v is number => typeof v === 'number'))
        : discretePieces(term, named.filter((v): v is Scalar => typeof v !== 'number'));
    dims.push({ term, arg: term.path[0] as string, pieces, presence: term.optionalArg === undefined ? undefined : presence.get(term.optionalArg) });
  }
  return dims;
}

export function cellCount(dims: readonly Dimension[]): number {
  return dims.reduce((n, d) => n * d.pieces.length, 1);
}

function atomTruth(atom: Atom, dims: readonly Dimension[], byTerm: ReadonlyMap<number, number>, presenceDim: ReadonlyMap<string, number>, coords: Int32Array): Truth {
  if (atom.kind === 'present') {
    const piece = dims[presenceDim.get(atom.arg) as number]?.pieces[coords[presenceDim.get(atom.arg) as number] as number];
    return piece?.kind === 'presence' && piece.present ? TRUE : FALSE;
  }
  const d = byTerm.get(atom.term) as number;
  const index = coords[d] as number;
  if (index < 0) return ERROR; // reading an absent argument
  const piece = dims[d]?.pieces[index] as Piece;
  if (atom.kind === 'member') {
    if (piece.kind === 'value') return atom.values.includes(piece.value) ? TRUE : FALSE;
    if (piece.kind === 'number') return atom.values.includes(piece.witness) ? TRUE : FALSE;
    return FALSE;
  }
  if (piece.kind !== 'number') return FALSE;
  const v = piece.witness;
  const holds = atom.op === '<' ? v < atom.value : atom.op === '<=' ? v <= atom.value : atom.op === '>' ? v > atom.value : v >= atom.value;
  return holds ? TRUE : FALSE;
}

/** Every cell of the product, with the truths of each plan's rules and the possible outcomes. */
export function* cells(table: AtomTable, dims: readonly Dimension[], plans: readonly PlanModel[], extra: readonly Formula[] = []): Generator<Cell & { extra: Truth[] }> {
  const byTerm = new Map<number, number>();
  const presenceDim = new Map<string, number>();
  dims.forEach((d, i) => {
    if (d.term) byTerm.set(d.term.id, i);
    else presenceDim.set(d.arg, i);
  });
  const coords = new Int32Array(dims.length);
  const recurse = function* (i: number): Generator<Int32Array> {
    if (i === dims.length) {
      yield coords;
      return;
    }
    const dim = dims[i] as Dimension;
    const parent = dim.presence;
    const absent = parent !== undefined && (dims[parent]?.pieces[coords[parent] as number] as { present?: boolean }).present === false;
    if (absent) {
      coords[i] = -1;
      yield* recurse(i + 1);
      return;
    }
    for (let p = 0; p < dim.pieces.length; p++) {
      coords[i] = p;
      yield* recurse(i + 1);
    }
  };
  for (const at of recurse(0)) {
    const atomTruths = table.atoms.map((atom) => atomTruth(atom, dims, byTerm, presenceDim, at));
    const truths = plans.map((plan) => plan.rules.map((rule) => evaluate(rule.formula, atomTruths)));
    yield { coords: Int32Array.from(at), truths, outcomes: outcomesOf(plans, truths), extra: extra.map((f) => evaluate(f, atomTruths)) };
  }
}

/** Every decision the engine may reach given each rule's possible truth values. */
export function outcomesOf(plans: readonly PlanModel[], truths: readonly Truth[][]): Outcome[] | undefined {
  const unsure: [number, number][] = [];
  truths.forEach((row, p) => row.forEach((t, r) => values(t).length > 1 && unsure.push([p, r])));
  if (unsure.length > MAX_UNKNOWN_RULES) return undefined;
  const chosen = truths.map((row) => [...row]);
  const seen = new Map<string, Outcome>();
  const assign = (k: number): void => {
    if (k === unsure.length) {
      const outcome = decide(plans, chosen);
      seen.set(`${outcome.effect}|${outcome.decidedBy}|${outcome.rule}|${outcome.policy}|${outcome.fellThrough}`, outcome);
      return;
    }
    const [p, r] = unsure[k] as [number, number];
    for (const v of values(truths[p]?.[r] as Truth)) {
      (chosen[p] as Truth[])[r] = v;
      assign(k + 1);
    }
  };
  assign(0);
  return [...seen.values()];
}

/** The engine's decision for single truth values (see Engine.evaluate and evaluatePlan). */
function decide(plans: readonly PlanModel[], truths: readonly Truth[][]): Outcome {
  if (truths.some((row) => row.includes(ERROR))) return { effect: 'block', decidedBy: 'error', rule: null, policy: null, fellThrough: false };
  let best: (Outcome & { score: number }) | undefined;
  plans.forEach((plan, p) => {
    let deciding = -1;
    let rank = -1;
    let score = 0;
    plan.rules.forEach((rule, r) => {
      if (truths[p]?.[r] !== TRUE) return;
      score += rule.risk;
      const ruleRank = rule.effect ? EFFECT_RANK[rule.effect] : -1;
      if (ruleRank > rank) {
        rank = ruleRank;
        deciding = r;
      }
    });
    const rule = plan.rules[deciding];
    const ruleEffect = rule?.effect ?? plan.defaultEffect;
    const level = riskLevel(score, plan.riskTiers);
    const byRisk = level === 'low' || level === 'medium' ? 'allow' : riskEffect(level);
    const raised = EFFECT_RANK[byRisk] > EFFECT_RANK[ruleEffect];
    const outcome = {
      effect: raised ? byRisk : ruleEffect,
      decidedBy: raised ? 'risk' : rule ? 'rule' : 'default',
      rule: raised || !rule ? null : rule.id,
      policy: plan.policy,
      fellThrough: !rule,
      score,
    } as const;
    if (!best || EFFECT_RANK[outcome.effect] > EFFECT_RANK[best.effect] || (outcome.effect === best.effect && outcome.score > best.score)) best = outcome;
  });
  const { score: _score, ...outcome } = best as Outcome & { score: number };
  return outcome;
}

/** Whether a truth value may be true. */
export const mayHold = (truth: Truth): boolean => (truth & TRUE) !== 0;
