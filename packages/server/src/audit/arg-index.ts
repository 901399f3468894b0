import { z } from 'zod';

/**
 * Argument search: which scalar fields of a call's arguments are indexed, and the filter grammar.
 *
 * Every decision record's `data.request.args` is flattened at write time into rows of the
 * `audit_args` side table, one per scalar field: (seq, path, text_value, num_value). A filter on
 * an argument is then an index lookup on (path, text_value) or (path, num_value) whatever the
 * field, instead of a scan of every record's JSON. Bounded so a hostile call cannot blow up the
 * write: at most MAX_LEAVES fields per record, MAX_DEPTH levels of objects, keys that are
 * path-safe, strings up to MAX_TEXT characters (longer ones are not indexed, and a filter value
 * is at most that long, so equality is never answered from a truncated value). Arrays are not
 * indexed (a path names one field).
 */

export const MAX_DEPTH = 4;
export const MAX_LEAVES = 32;
export const MAX_TEXT = 256;
/** Filters per query. */
export const MAX_ARG_FILTERS = 8;
const KEY = /^[A-Za-z0-9_-]{1,64}$/;
/** A dotted path of 1 to MAX_DEPTH keys, at most 200 characters. */
export const ARG_PATH = /^[A-Za-z0-9_-]{1,64}(?:\.[A-Za-z0-9_-]{1,64}){0,3}$/;

/** One indexed scalar field: its text form (equality, prefix) and, for numbers, its value (ranges). */
export interface ArgLeaf {
  path: string;
  text: string;
  num: number | null;
}

/** The indexed fields of a call's arguments, in key order of a depth-first walk (no recursion on the stack). */
export function argLeaves(args: unknown): ArgLeaf[] {
  const leaves: ArgLeaf[] = [];
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return leaves;
  const pending: { value: Record<string, unknown>; prefix: string; depth: number }[] = [{ value: args as Record<string, unknown>, prefix: '', depth: 1 }];
  while (pending.length > 0 && leaves.length < MAX_LEAVES) {
    const { value, prefix, depth } = pending.pop() as { value: Record<string, unknown>; prefix: string; depth: number };
    for (const key of Object.keys(value).sort()) {
      if (leaves.length >= MAX_LEAVES) break;
      if (!KEY.test(key)) continue;
      const path = prefix === '' ? key : `${prefix}.${key}`;
      const field = value[key];
      if (typeof field === 'string') {
        if (field.length <= MAX_TEXT) leaves.push({ path, text: field, num: null });
      } else if (typeof field === 'number') {
        if (Number.isFinite(field)) leaves.push({ path, text: String(field), num: field });
      } else if (typeof field === 'boolean') {
        leaves.push({ path, text: String(field), num: null });
      } else if (typeof field === 'object' && field !== null && !Array.isArray(field) && depth < MAX_DEPTH) {
        pending.push({ value: field as Record<string, unknown>, prefix: path, depth: depth + 1 });
      }
    }
  }
  return leaves;
}

/**
 * The indexed fields of a stored decision record's arguments, read back from its payload: the
 * audit row's `payload` column, the canonical JSON the record was sealed with (record.ts,
 * `sealRecord`), whose `data.request.args` are the call's arguments. For records whose fields
 * were not indexed as they were written: older than the index (the backfill migration), or past
 * the SQLite writer's watermark after a crash (its catch-up).
 */
export function payloadArgLeaves(payload: string): ArgLeaf[] {
  return argLeaves((JSON.parse(payload) as { data?: { request?: { args?: unknown } } }).data?.request?.args);
}

/** What one argument filter asks: the field at `path` ... */
export type ArgFilter =
  /** ... is this text (strings as written; numbers as JSON writes them; true / false). */
  | { path: string; op: 'eq'; value: string }
  /** ... starts with this text. */
  | { path: string; op: 'prefix'; value: string }
  /** ... is a number in this range. */
  | { path: string; op: 'gt' | 'gte' | 'lt' | 'lte'; value: number };

const OPERATORS: { token: string; op: ArgFilter['op'] }[] = [
  // Longest first: `>=` before `>`.
  { token: '>=', op: 'gte' },
  { token: '<=', op: 'lte' },
  { token: '^=', op: 'prefix' },
  { token: '>', op: 'gt' },
  { token: '<', op: 'lt' },
  { token: '=', op: 'eq' },
];
const NUMBER = /^-?(?:0|[1-9][0-9]{0,15})(?:\.[0-9]{1,16})?(?:[eE][+-]?[0-9]{1,3})?$/;

/**
 * Parses `path<op>value`: `account=acct_42`, `amount>=100`, `amount<1000`, `account^=acct_4`.
 * The path is dotted keys (letters, digits, _ -; at most 4 levels); range values are decimal
 * numbers; text values are 1..256 characters taken as they are (never part of SQL: every value is
 * a bound parameter). Answers an error message for anything else.
 */
export function parseArgFilter(input: string): ArgFilter | string {
  const match = /^([A-Za-z0-9_.-]{1,200})(>=|<=|\^=|>|<|=)([\s\S]*)$/.exec(input);
  if (!match) return 'expected path<op>value, op one of = ^= > >= < <= (e.g. account=acct_42, amount>=100)';
  const [, path = '', token = '', raw = ''] = match;
  if (!ARG_PATH.test(path)) return `path "${path.slice(0, 64)}": 1 to ${MAX_DEPTH} dot-separated keys of letters, digits, _ or -`;
  const op = OPERATORS.find((o) => o.token === token)?.op ?? 'eq';
  if (raw.length === 0 || raw.length > MAX_TEXT) return `value: 1 to ${MAX_TEXT} characters`;
  if (op === 'eq' || op === 'prefix') return { path, op, value: raw };
  const value = Number(raw);
  if (!NUMBER.test(raw) || !Number.isFinite(value)) return `value "${raw.slice(0, 32)}": a decimal number for ${token}`;
  return { path, op, value };
}

/** The `arg` query parameter: one filter or several (repeated), validated at the boundary. */
export const argFilterParam = z
  .union([z.string().max(512), z.array(z.string().max(512)).max(MAX_ARG_FILTERS)])
  .describe(
    `argument filters, repeat for several (all must hold, at most ${MAX_ARG_FILTERS}): path=value (equal), path^=prefix, path>=n, path>n, path<=n, path<n; path is dotted keys into the call's arguments (e.g. account, amount, payee.country)`,
  )
  .transform((value, ctx) => {
    const filters: ArgFilter[] = [];
    for (const [index, text] of (typeof value === 'string' ? [value] : value).entries()) {
      const parsed = parseArgFilter(text);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: parsed, path: typeof value === 'string' ? [] : [index] });
        return z.NEVER;
      }
      filters.push(parsed);
    }
    return filters;
  });

/**
 * The smallest string greater than every string starting with `prefix` (in code point order,
 * which is UTF-8 byte order: SQLite's BINARY and PostgreSQL's "C" collation): `prefix` ≤ text <
 * successor is exactly "text starts with prefix". Undefined when there is none (all U+10FFFF).
 */
export function prefixSuccessor(prefix: string): string | undefined {
  const points = Array.from(prefix, (c) => c.codePointAt(0) as number);
  while (points.length > 0) {
    const last = points.pop() as number;
    let next = last + 1;
    if (next >= 0xd800 && next <= 0xdfff) next = 0xe000;
    if (next <= 0x10ffff) return String.fromCodePoint(...points, next);
  }
  return undefined;
}

/** Filters grouped by path: the conditions on one field are one index lookup. */
export function groupByPath(filters: readonly ArgFilter[]): Map<string, ArgFilter[]> {
  const groups = new Map<string, ArgFilter[]>();
  for (const filter of filters) groups.set(filter.path, [...(groups.get(filter.path) ?? []), filter]);
  return groups;
}
