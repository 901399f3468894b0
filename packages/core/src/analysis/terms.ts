import type { JsonSchema, ToolDefinition } from '../policy/document.js';

/**
 * Terms are the argument-derived values conditions compare: `args.amount`, `args.meta.count`,
 * `size(args.ids)`. Each has a domain taken from the tool's argument schema (every policy that
 * declares the tool validates the call, so the domain is the intersection of their schemas).
 * A term whose schema the analysis cannot state exactly is not a term: conditions over it are
 * "not analysed".
 */

export type Scalar = string | boolean;

export interface NumericDomain {
  integer: boolean;
  min: number;
  minInclusive: boolean;
  max: number;
  maxInclusive: boolean;
  /** The only values allowed (`enum` / `const`), when the schema lists them. */
  values: number[] | undefined;
}

interface TermBase {
  id: number;
  /** `amount`, `meta.count`, `size(ids)`: how findings name it. */
  label: string;
  path: string[];
  measure: 'value' | 'size';
  /** The top-level argument the term reads, when the schema lets it be absent. */
  optionalArg: string | undefined;
}

export interface NumericTerm extends TermBase {
  kind: 'number';
  domain: NumericDomain;
}

export interface DiscreteTerm extends TermBase {
  kind: 'discrete';
  type: 'string' | 'boolean';
  /** The complete list of values, when the schema closes the domain (enum, const, boolean). */
  closed: Scalar[] | undefined;
  /** Whether argument validation accepts this value for the term; `quick` as in ValueValidator. */
  accepts: (value: Scalar, quick?: boolean) => boolean;
}

export type Term = NumericTerm | DiscreteTerm;

/**
 * Judges one value against one sub-schema, as argument validation would. `quick`: may answer
 * false for a value ajv would accept (the fast predicate alone), for looking for examples.
 */
export type ValueValidator = (schema: JsonSchema, value: unknown, quick?: boolean) => boolean;

interface Located {
  schema: JsonSchema;
  optionalArg: string | undefined;
}

/**
 * The schema of `args.<path>` in one tool definition, or undefined when the path is not a declared
 * argument whose presence the schema decides (undeclared names of an open argument object, nested
 * fields a nested `required` leaves optional).
 */
export function locate(definition: ToolDefinition, path: readonly string[]): Located | undefined {
  const [top, ...rest] = path;
  if (top === undefined || !Object.prototype.hasOwnProperty.call(definition.args, top)) return undefined;
  let schema = definition.args[top] as JsonSchema;
  const declared = Object.keys(definition.args);
  const required = definition.required ?? declared;
  const optionalArg = required.includes(top) ? undefined : top;
  for (const field of rest) {
    const properties = schema.properties;
    if (!properties || typeof properties !== 'object' || Array.isArray(properties)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(properties, field)) return undefined;
    // Nested objects that list properties are closed and fully required unless they say otherwise.
    const nestedRequired = schema.required;
    if (Array.isArray(nestedRequired) && !nestedRequired.includes(field)) return undefined;
    schema = (properties as Record<string, JsonSchema>)[field] as JsonSchema;
  }
  return { schema, optionalArg };
}

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

function listed(schema: JsonSchema): unknown[] | undefined {
  if (Array.isArray(schema.enum)) return schema.enum;
  if ('const' in schema) return [schema.const];
  return undefined;
}

/** The numeric domain of a value or size, from one schema; undefined when it is not a plain number. */
export function numericDomain(schema: JsonSchema, measure: 'value' | 'size'): NumericDomain | undefined {
  if (measure === 'size') {
    const [low, high] = schema.type === 'array' ? ['minItems', 'maxItems'] : schema.type === 'string' ? ['minLength', 'maxLength'] : [];
    if (!low || !high) return undefined;
    return { integer: true, min: num(schema[low]) ?? 0, minInclusive: true, max: num(schema[high]) ?? Infinity, maxInclusive: true, values: undefined };
  }
  if (schema.type !== 'number' && schema.type !== 'integer') return undefined;
  const domain: NumericDomain = { integer: schema.type === 'integer', min: -Infinity, minInclusive: false, max: Infinity, maxInclusive: false, values: undefined };
  tighten(domain, 'min', num(schema.minimum), true);
  tighten(domain, 'min', num(schema.exclusiveMinimum), false);
  tighten(domain, 'max', num(schema.maximum), true);
  tighten(domain, 'max', num(schema.exclusiveMaximum), false);
  const values = listed(schema);
  if (values) domain.values = values.filter((v): v is number => num(v) !== undefined);
  return domain;
}

function tighten(domain: NumericDomain, side: 'min' | 'max', bound: number | undefined, inclusive: boolean): void {
  if (bound === undefined) return;
  const current = domain[side];
  const tighter = side === 'min' ? bound > current : bound < current;
  if (tighter) {
    domain[side] = bound;
    domain[side === 'min' ? 'minInclusive' : 'maxInclusive'] = inclusive;
  } else if (bound === current && !inclusive) {
    domain[side === 'min' ? 'minInclusive' : 'maxInclusive'] = false;
  }
}

/** Values every one of the domains accepts. */
export function intersectDomains(domains: readonly NumericDomain[]): NumericDomain {
  const out: NumericDomain = { integer: false, min: -Infinity, minInclusive: false, max: Infinity, maxInclusive: false, values: undefined };
  for (const domain of domains) {
    out.integer ||= domain.integer;
    tighten(out, 'min', Number.isFinite(domain.min) ? domain.min : undefined, domain.minInclusive);
    tighten(out, 'max', Number.isFinite(domain.max) ? domain.max : undefined, domain.maxInclusive);
    if (domain.values) out.values = out.values ? out.values.filter((v) => domain.values?.includes(v)) : [...domain.values];
  }
  if (out.values) out.values = [...new Set(out.values.filter((v) => inDomain(out, v)))].sort((a, b) => a - b);
  return out;
}

/** Whether a number satisfies the domain's bounds, integrality and list. */
export function inDomain(domain: NumericDomain, value: number): boolean {
  if (!Number.isFinite(value)) return false;
  if (domain.integer && !Number.isInteger(value)) return false;
  if (value < domain.min || (value === domain.min && !domain.minInclusive)) return false;
  if (value > domain.max || (value === domain.max && !domain.maxInclusive)) return false;
  return !domain.values || domain.values.includes(value);
}

/** Builds the term for a path over every definition of the tool; undefined when not analysable. */
export function resolveTerm(
  id: number,
  definitions: readonly ToolDefinition[],
  path: readonly string[],
  measure: 'value' | 'size',
  validate: ValueValidator,
): Term | undefined {
  const located = definitions.map((definition) => locate(definition, path));
  if (located.length === 0 || located.some((l) => l === undefined)) return undefined;
  const found = located as Located[];
  const optionalArg = found.every((l) => l.optionalArg !== undefined) ? path[0] : undefined;
  const label = measure === 'size' ? `size(${path.join('.')})` : path.join('.');
  const base = { id, label, path: [...path], measure, optionalArg };

  const domains = found.map((l) => numericDomain(l.schema, measure));
  if (domains.every((d) => d !== undefined)) return { ...base, kind: 'number', domain: intersectDomains(domains as NumericDomain[]) };
  if (measure === 'size' || domains.some((d) => d !== undefined)) return undefined;

  const types = new Set(found.map((l) => l.schema.type));
  const [type] = types;
  if (types.size !== 1 || (type !== 'string' && type !== 'boolean')) return undefined;
  const accepts = (value: Scalar, quick?: boolean): boolean => typeof value === type && found.every((l) => validate(l.schema, value, quick));
  let closed: Scalar[] | undefined = type === 'boolean' ? [true, false] : undefined;
  for (const l of found) {
    const values = listed(l.schema);
    if (values) closed = (closed ?? values.filter((v): v is Scalar => typeof v === type)).filter((v) => values.includes(v));
  }
  if (closed) closed = [...new Set(closed)].filter((v) => accepts(v));
  return { ...base, kind: 'discrete', type, closed, accepts };
}
