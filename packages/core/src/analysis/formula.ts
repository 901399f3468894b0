/**
 * Conditions as formulas over atoms, evaluated in CEL's logic with errors. A truth value is the
 * set of values a condition may take in a region of the argument space: true, false, or a CEL
 * error (reading an absent optional argument). `&&` and `||` follow CEL's commutative error
 * absorption: `false && error` is false, `true || error` is true, anything else with an error is
 * an error.
 */

export const TRUE = 1;
export const FALSE = 2;
export const ERROR = 4;
/** A non-empty subset of {TRUE, FALSE, ERROR}. */
export type Truth = number;
/** What a condition the analysis does not understand may be. */
export const UNKNOWN: Truth = TRUE | FALSE | ERROR;

export type Formula =
  | { kind: 'const'; value: Truth }
  | { kind: 'atom'; atom: number }
  | { kind: 'not'; operand: Formula }
  | { kind: 'and' | 'or'; left: Formula; right: Formula };

export const always: Formula = { kind: 'const', value: TRUE };

const BITS = [TRUE, FALSE, ERROR] as const;

function andOne(x: number, y: number): number {
  if (x === FALSE || y === FALSE) return FALSE;
  if (x === ERROR || y === ERROR) return ERROR;
  return TRUE;
}

function orOne(x: number, y: number): number {
  if (x === TRUE || y === TRUE) return TRUE;
  if (x === ERROR || y === ERROR) return ERROR;
  return FALSE;
}

function combine(a: Truth, b: Truth, one: (x: number, y: number) => number): Truth {
  let out = 0;
  for (const x of BITS) {
    if (!(a & x)) continue;
    for (const y of BITS) if (b & y) out |= one(x, y);
  }
  return out;
}

export function and(a: Truth, b: Truth): Truth {
  return combine(a, b, andOne);
}

export function or(a: Truth, b: Truth): Truth {
  return combine(a, b, orOne);
}

export function not(a: Truth): Truth {
  return (a & TRUE ? FALSE : 0) | (a & FALSE ? TRUE : 0) | (a & ERROR);
}

/** Builders that fold constants, so `role == "support" && …` disappears in a support slice. */
export function notF(operand: Formula): Formula {
  return operand.kind === 'const' ? { kind: 'const', value: not(operand.value) } : { kind: 'not', operand };
}

export function binaryF(kind: 'and' | 'or', left: Formula, right: Formula): Formula {
  if (left.kind === 'const' && right.kind === 'const') {
    return { kind: 'const', value: kind === 'and' ? and(left.value, right.value) : or(left.value, right.value) };
  }
  const absorbing = kind === 'and' ? FALSE : TRUE;
  if ((left.kind === 'const' && left.value === absorbing) || (right.kind === 'const' && right.value === absorbing)) {
    return { kind: 'const', value: absorbing };
  }
  const neutral = kind === 'and' ? TRUE : FALSE;
  if (left.kind === 'const' && left.value === neutral) return right;
  if (right.kind === 'const' && right.value === neutral) return left;
  return { kind, left, right };
}

/** The formula's truth given each atom's truth in a region. */
export function evaluate(formula: Formula, atoms: ArrayLike<Truth>): Truth {
  switch (formula.kind) {
    case 'const':
      return formula.value;
    case 'atom':
      return atoms[formula.atom] ?? UNKNOWN;
    case 'not':
      return not(evaluate(formula.operand, atoms));
    case 'and':
      return and(evaluate(formula.left, atoms), evaluate(formula.right, atoms));
    default:
      return or(evaluate(formula.left, atoms), evaluate(formula.right, atoms));
  }
}

/** The single values a truth set may take, in a fixed order. */
export function values(truth: Truth): number[] {
  return BITS.filter((bit) => truth & bit);
}
