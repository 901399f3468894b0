import { inDomain, type DiscreteTerm, type NumericDomain, type Scalar } from './terms.js';

/**
 * The elementary pieces a term's domain splits into: between two consecutive constants that
 * conditions compare the term with, every comparison has one answer, so one witness value per
 * piece decides every condition for the whole piece.
 */

export interface NumberPiece {
  kind: 'number';
  lo: number;
  hi: number;
  loInclusive: boolean;
  hiInclusive: boolean;
  /** A value of the piece that argument validation accepts. */
  witness: number;
}

export interface ValuePiece {
  kind: 'value';
  value: Scalar;
}

/** Every accepted value the conditions do not name. */
export interface OtherPiece {
  kind: 'other';
  /** The named values, which this piece excludes. */
  except: Scalar[];
  witness: Scalar | undefined;
}

export interface PresencePiece {
  kind: 'presence';
  present: boolean;
}

export type Piece = NumberPiece | ValuePiece | OtherPiece | PresencePiece;

/** The pieces of a numeric domain cut at the given constants, in ascending order; empty pieces dropped. */
export function numberPieces(domain: NumericDomain, constants: readonly number[]): NumberPiece[] {
  if (domain.values) {
    return domain.values.map((v) => ({ kind: 'number', lo: v, hi: v, loInclusive: true, hiInclusive: true, witness: v }));
  }
  const cuts = [...new Set([...constants, domain.min, domain.max].filter((c) => Number.isFinite(c)))].sort((a, b) => a - b);
  const pieces: NumberPiece[] = [];
  const open = (lo: number, hi: number): void => {
    const witness = openWitness(lo, hi, domain.integer);
    if (witness !== undefined && inDomain(domain, witness)) pieces.push({ kind: 'number', lo, hi, loInclusive: false, hiInclusive: false, witness });
  };
  let previous = -Infinity;
  for (const cut of cuts) {
    open(previous, cut);
    if (inDomain(domain, cut)) pieces.push({ kind: 'number', lo: cut, hi: cut, loInclusive: true, hiInclusive: true, witness: cut });
    previous = cut;
  }
  open(previous, Infinity);
  return pieces;
}

/** A number strictly between lo and hi (an integer when asked), or undefined when there is none. */
export function openWitness(lo: number, hi: number, integer: boolean): number | undefined {
  let w: number;
  if (integer) {
    w = lo === -Infinity ? (hi === Infinity ? 0 : Math.ceil(hi) - 1) : Math.floor(lo) + 1;
  } else if (lo === -Infinity) {
    w = hi === Infinity ? 0 : hi > 0 ? 0 : hi * 2 - 1;
  } else if (hi === Infinity) {
    w = lo < 0 ? 0 : lo * 2 + 1;
    if (!Number.isFinite(w)) w = Number.MAX_VALUE;
  } else {
    w = shortest(lo, hi, lo / 2 + hi / 2);
  }
  return Number.isFinite(w) && w > lo && w < hi ? w : undefined;
}

/** The value near `mid` with the fewest decimals strictly between lo and hi: 50.005, not 50.004999999999995. */
function shortest(lo: number, hi: number, mid: number): number {
  for (let digits = 0; digits <= 20; digits++) {
    const v = Number(mid.toFixed(digits));
    if (v > lo && v < hi) return v;
  }
  return mid;
}

const WITNESS_CANDIDATES = ['x', 'other', 'a', 'A', 'z9', '0', 'other@example.com', 'x-1'];

/** The pieces of a string or boolean term: each accepted value named by a condition, then the rest. */
export function discretePieces(term: DiscreteTerm, named: readonly Scalar[]): (ValuePiece | OtherPiece)[] {
  if (term.closed) return term.closed.map((value) => ({ kind: 'value', value }));
  const values = [...new Set(named.filter((v) => typeof v === term.type && term.accepts(v)))];
  const witness = WITNESS_CANDIDATES.find((c) => !values.includes(c) && term.accepts(c, true));
  return [...values.map((value): ValuePiece => ({ kind: 'value', value })), { kind: 'other', except: values, witness }];
}

export const PRESENCE_PIECES: readonly PresencePiece[] = [
  { kind: 'presence', present: true },
  { kind: 'presence', present: false },
];
