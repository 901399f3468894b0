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
  /** Per plan, the rule that decided that policy's own answer (before risk); null for its default. */
  deciders: (string | null)[];
}

export interface Cell {
  /** Piece index per dimension; -1 where the dimension does not apply (its argument is absent). */
  coords: Int32Array;
  /** Every outcome the cell may have; undefined when too many conditions are unknown to list them. */
  outcomes: Outcome[] | undefined;
  /** Truth of each plan's rules, by plan then rule. Valid until the next cell is produced. */
  truths: readonly Uint8Array[];
  /** Truth of each extra formula (limit conditions). Valid until the next cell is produced. */
  extra: Uint8Array;
}

/** Cells beyond which a tool is reported as not analysed rather than enumerated. */
export const MAX_CELLS = 100_000;
/** Unknown rule values enumerated per cell (at most 3^n combinations). */
const MAX_UNKNOWN_RULES = 7;

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

/**
 * Each atom's truth per piece of the one dimension it reads, computed once: a cell's atom truths
 * are then lookups. Index `pieces.length` is unused; a dimension that does not apply (-1) reads an
 * absent argument, which is an error in CEL.
 */
function atomTables(table: AtomTable, dims: readonly Dimension[]): { dim: Int32Array; truths: Uint8Array[] } {
  const byTerm = new Map<number, number>();
  const presenceDim = new Map<string, number>();
  dims.forEach((d, i) => {
    if (d.term) byTerm.set(d.term.id, i);
    else presenceDim.set(d.arg, i);
  });
  const dim = new Int32Array(table.atoms.length);
  const truths = table.atoms.map((atom, a) => {
    const d = (atom.kind === 'present' ? presenceDim.get(atom.arg) : byTerm.get(atom.term)) as number;
    dim[a] = d;
    const pieces = (dims[d] as Dimension).pieces;
    const out = new Uint8Array(pieces.length);
    for (let i = 0; i < pieces.length; i++) out[i] = pieceTruth(atom, pieces[i] as Piece);
    return out;
  });
  return { dim, truths };
}

function pieceTruth(atom: Atom, piece: Piece): Truth {
  if (atom.kind === 'present') return piece.kind === 'presence' && piece.present ? TRUE : FALSE;
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
export function* cells(table: AtomTable, dims: readonly Dimension[], plans: readonly PlanModel[], extra: readonly Formula[] = []): Generator<Cell> {
  const lookup = atomTables(table, dims);
  // Buffers reused from cell to cell: a tool with a thousand thresholds has thousands of cells.
  const atomTruths = new Uint8Array(table.atoms.length);
  const truths = plans.map((plan) => new Uint8Array(plan.rules.length));
  const extraTruths = new Uint8Array(extra.length);
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
    for (let a = 0; a < atomTruths.length; a++) {
      const piece = at[lookup.dim[a] as number] as number;
      atomTruths[a] = piece < 0 ? ERROR : ((lookup.truths[a] as Uint8Array)[piece] as number);
    }
    plans.forEach((plan, p) => {
      const row = truths[p] as Uint8Array;
      plan.rules.forEach((rule, r) => (row[r] = evaluate(rule.formula, atomTruths)));
    });
    extra.forEach((formula, e) => (extraTruths[e] = evaluate(formula, atomTruths)));
    yield { coords: Int32Array.from(at), truths, outcomes: outcomesOf(plans, truths), extra: extraTruths };
  }
}

/** More than one possible value. */
export const unsure = (truth: Truth): boolean => (truth & (truth - 1)) !== 0;

/** Every decision the engine may reach given each rule's possible truth values. */
export function outcomesOf(plans: readonly PlanModel[], truths: readonly Uint8Array[]): Outcome[] | undefined {
  const open: [number, number][] = [];
  truths.forEach((row, p) => row.forEach((t, r) => unsure(t) && open.push([p, r])));
  if (open.length === 0) return [decide(plans, truths)];
  if (open.length > MAX_UNKNOWN_RULES) return undefined;
  const chosen = truths.map((row) => Uint8Array.from(row));
  const seen = new Map<string, Outcome>();
  const assign = (k: number): void => {
    if (k === open.length) {
      const outcome = decide(plans, chosen);
      seen.set(`${outcome.effect}|${outcome.decidedBy}|${outcome.rule}|${outcome.policy}|${outcome.fellThrough}|${outcome.deciders.join(',')}`, outcome);
      return;
    }
    const [p, r] = open[k] as [number, number];
    for (const v of values(truths[p]?.[r] as Truth)) {
      (chosen[p] as Uint8Array)[r] = v;
      assign(k + 1);
    }
  };
  assign(0);
  return [...seen.values()];
}

/** The engine's decision for single truth values (see Engine.evaluate and evaluatePlan). */
function decide(plans: readonly PlanModel[], truths: readonly Uint8Array[]): Outcome {
  if (truths.some((row) => row.includes(ERROR))) return { effect: 'block', decidedBy: 'error', rule: null, policy: null, fellThrough: false, deciders: [] };
  let best: (Omit<Outcome, 'deciders'> & { score: number }) | undefined;
  const deciders: (string | null)[] = [];
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
    deciders.push(rule ? rule.id : null);
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
  const { score: _score, ...outcome } = best as Omit<Outcome, 'deciders'> & { score: number };
  return { ...outcome, deciders };
}

/** Whether a truth value may be true. */
export const mayHold = (truth: Truth): boolean => (truth & TRUE) !== 0;
