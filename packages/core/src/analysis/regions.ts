import type { Dimension } from './cells.js';
import type { NumberPiece, Piece } from './pieces.js';
import type { Scalar } from './terms.js';

/**
 * Describes sets of cells as a few exact "rectangles": conjunctions of one constraint per
 * argument (a union of intervals, a set of values, presence). The rectangles of a set are disjoint
 * and their union is exactly the set, so a value either lies in a reported range or it does not.
 */

/** `null` bounds are unbounded (−∞ / ∞). Integer terms are stated with inclusive integer bounds. */
export interface Interval {
  min: number | null;
  max: number | null;
  minInclusive: boolean;
  maxInclusive: boolean;
}

interface ConstraintBase {
  /** How findings name the argument: `amount`, `meta.count`, `size(ids)`. */
  arg: string;
  /** The constraint also holds when the (optional) argument is absent. */
  absent?: boolean;
  /** The argument path under `args`. */
  path: string[];
  /** `amount ∈ (50, 50.01)` */
  text: string;
}

export type Constraint =
  | (ConstraintBase & { kind: 'range'; measure: 'value' | 'size'; intervals: Interval[] })
  | (ConstraintBase & { kind: 'values'; in?: Scalar[]; notIn?: Scalar[] })
  | (ConstraintBase & { kind: 'presence'; present: boolean });

/** A conjunction of constraints; empty: every call. */
export type Region = Constraint[];

/** Splits cells (piece indices per dimension) into disjoint rectangles, described as regions. */
export function describeCells(dims: readonly Dimension[], cells: readonly Int32Array[]): Region[] {
  if (cells.length === 0) return [];
  // An optional argument read by one term only: its absence becomes one more piece of that term
  // (`note ≠ "x" or note absent`), instead of a separate dimension that splits every region.
  const folded = new Map<number, number>();
  dims.forEach((dim, p) => {
    if (dim.term) return;
    const dependents = dims.flatMap((d, t) => (d.presence === p ? [t] : []));
    if (dependents.length === 1) folded.set(p, dependents[0] as number);
  });
  const foldedTerms = new Set(folded.values());
  const remapped = cells.map((cell) => {
    const copy = Int32Array.from(cell);
    for (const [p, t] of folded) {
      const piece = dims[p]?.pieces[cell[p] as number];
      if (piece?.kind === 'presence' && !piece.present) copy[t] = (dims[t] as Dimension).pieces.length;
      copy[p] = 0;
    }
    return copy;
  });
  const rank = (d: Dimension): number => (d.term?.kind === 'number' ? 0 : d.term ? 1 : 2);
  const order = dims
    .map((_, i) => i)
    .filter((i) => !folded.has(i))
    .sort((a, b) => rank(dims[a] as Dimension) - rank(dims[b] as Dimension) || a - b);
  return rectangles(remapped, order).map((rectangle) =>
    order.flatMap((d) => {
      const pieces = rectangle.get(d);
      const dim = dims[d] as Dimension;
      const size = dim.pieces.length + (foldedTerms.has(d) ? 1 : 0);
      if (!pieces || pieces[0] === -1 || pieces.length === size) return [];
      return [constraint(dim, pieces)];
    }),
  );
}

function rectangles(cells: readonly Int32Array[], order: readonly number[]): Map<number, number[]>[] {
  const [d, ...rest] = order;
  if (d === undefined) return [new Map()];
  const contexts = new Map<string, { cell: Int32Array; pieces: Set<number> }>();
  for (const cell of cells) {
    const key = rest.map((r) => cell[r]).join(',');
    const entry = contexts.get(key) ?? { cell, pieces: new Set<number>() };
    entry.pieces.add(cell[d] as number);
    contexts.set(key, entry);
  }
  const groups = new Map<string, { pieces: number[]; cells: Int32Array[] }>();
  for (const { cell, pieces } of contexts.values()) {
    const sorted = [...pieces].sort((a, b) => a - b);
    const key = sorted.join(',');
    const group = groups.get(key) ?? { pieces: sorted, cells: [] };
    group.cells.push(cell);
    groups.set(key, group);
  }
  return [...groups.values()].flatMap((group) =>
    rectangles(group.cells, rest).map((rectangle) => {
      rectangle.set(d, group.pieces);
      return rectangle;
    }),
  );
}

/** One dimension's pieces as a constraint; the index one past the last piece stands for "absent". */
function constraint(dim: Dimension, indices: readonly number[]): Constraint {
  const term = dim.term;
  const absent = indices.includes(dim.pieces.length);
  const present = indices.filter((i) => i < dim.pieces.length);
  const pieces = present.map((i) => dim.pieces[i] as Piece);
  if (!term || present.length === 0) {
    const isPresent = !absent && pieces[0]?.kind === 'presence' && pieces[0].present;
    return { kind: 'presence', arg: dim.arg, path: [dim.arg], present: isPresent, text: `${dim.arg} ${isPresent ? 'present' : 'absent'}` };
  }
  const orAbsent = (text: string): string => (absent ? `(${text} or ${dim.arg} absent)` : text);
  const base = { arg: term.label, path: term.path, ...(absent ? { absent: true } : {}) };
  if (term.kind === 'number') {
    const intervals = runs(present).map(([from, to]) => interval(dim.pieces[from] as NumberPiece, dim.pieces[to] as NumberPiece, term.domain.integer));
    return { ...base, kind: 'range', measure: term.measure, intervals, text: orAbsent(rangeText(term.label, intervals)) };
  }
  const values = pieces.flatMap((p) => (p.kind === 'value' ? [p.value] : []));
  if (pieces.some((p) => p.kind === 'other')) {
    const all = dim.pieces.flatMap((p) => (p.kind === 'value' ? [p.value] : []));
    const notIn = all.filter((v) => !values.includes(v));
    const text = notIn.length === 0 ? `${term.label} present` : notIn.length === 1 ? `${term.label} ≠ ${scalar(notIn[0] as Scalar)}` : `${term.label} ∉ {${notIn.map(scalar).join(', ')}}`;
    return { ...base, kind: 'values', notIn, text: orAbsent(text) };
  }
  const text = values.length === 1 ? `${term.label} = ${scalar(values[0] as Scalar)}` : `${term.label} ∈ {${values.map(scalar).join(', ')}}`;
  return { ...base, kind: 'values', in: values, text: orAbsent(text) };
}

/** Consecutive indices as [first, last] pairs: adjacent pieces are adjacent ranges. */
function runs(indices: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const i of indices) {
    const last = out[out.length - 1];
    if (last && last[1] === i - 1) last[1] = i;
    else out.push([i, i]);
  }
  return out;
}

function interval(first: NumberPiece, last: NumberPiece, integer: boolean): Interval {
  if (integer) {
    const min = first.lo === -Infinity ? null : first.loInclusive ? first.lo : Math.floor(first.lo) + 1;
    const max = last.hi === Infinity ? null : last.hiInclusive ? last.hi : Math.ceil(last.hi) - 1;
    return { min, max, minInclusive: min !== null, maxInclusive: max !== null };
  }
  return {
    min: first.lo === -Infinity ? null : first.lo,
    max: last.hi === Infinity ? null : last.hi,
    minInclusive: first.loInclusive,
    maxInclusive: last.hiInclusive,
  };
}

function rangeText(label: string, intervals: readonly Interval[]): string {
  const [only] = intervals;
  if (intervals.length === 1 && only && only.min !== null && only.min === only.max) return `${label} = ${only.min}`;
  const text = intervals.map((i) => `${i.minInclusive ? '[' : '('}${i.min ?? '-∞'}, ${i.max ?? '∞'}${i.maxInclusive ? ']' : ')'}`);
  return `${label} ∈ ${text.join(' ∪ ')}`;
}

function scalar(value: Scalar): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** `amount ∈ (50, 50.01) and currency = "USD"`; `every call` for the empty region. */
export function regionText(region: Region): string {
  return region.length === 0 ? 'every call' : region.map((c) => c.text).join(' and ');
}

/** Whether a call's arguments lie in the region. */
export function regionContains(region: Region, args: Record<string, unknown>): boolean {
  return region.every((c) => {
    const found = read(args, c.path);
    if (c.kind === 'presence') return found.present === c.present;
    if (!found.present) return c.absent === true;
    const value = found.value;
    if (c.kind === 'values') {
      if (typeof value !== 'string' && typeof value !== 'boolean') return false;
      return c.in ? c.in.includes(value) : !(c.notIn ?? []).includes(value);
    }
    const n = c.measure === 'size' ? sizeOf(value) : value;
    return typeof n === 'number' && c.intervals.some((i) => within(i, n));
  });
}

function read(args: Record<string, unknown>, path: readonly string[]): { present: boolean; value?: unknown } {
  let value: unknown = args;
  for (const field of path) {
    if (value === null || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(value, field)) return { present: false };
    value = (value as Record<string, unknown>)[field];
  }
  return { present: true, value };
}

function sizeOf(value: unknown): number | undefined {
  if (typeof value === 'string') return [...value].length;
  return Array.isArray(value) ? value.length : undefined;
}

function within(i: Interval, n: number): boolean {
  const aboveMin = i.min === null || n > i.min || (i.minInclusive && n === i.min);
  const belowMax = i.max === null || n < i.max || (i.maxInclusive && n === i.max);
  return aboveMin && belowMax;
}
