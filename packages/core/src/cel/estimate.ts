import type { ASTNode } from '@marcbachmann/cel-js';
import type { JsonSchema } from '../policy/document.js';
import { MAX_ARGS_BYTES } from '../engine/request.js';
import {
  ASSUMED_WEIGHT_PER_PATTERN_CHAR,
  CHAR_COST,
  compileRegex,
  ELEMENT_COST,
  ITERATION_COST,
  REGEX_COMPILE_COST,
  regexRunCost,
  regexWeight,
} from './cost.js';

/**
 * The static cost estimate of a CEL expression: the most the runtime meter (compile.ts) can be
 * charged by one evaluation, from the largest values the tool's argument schema admits, as
 * Kubernetes estimates CEL validation rules. A comprehension costs its receiver's largest size
 * times (one iteration plus its body), so nested comprehensions multiply; string work costs the
 * longest string it may scan; a regular expression its subject times its RE2 program's weight.
 *
 * Sizes come from `maxItems` and `maxLength`. A list without `maxItems` counts as the most
 * elements a 1 MiB body can hold (MAX_ARGS_BYTES / 2: a one-digit element and its comma), a
 * string without `maxLength` as MAX_ARGS_BYTES code units, a map without `properties` as
 * MAX_ARGS_BYTES / 4 entries. A string's length is counted in UTF-16 code units, at most twice
 * its `maxLength` (which counts code points).
 */

/** The largest value an expression may produce: a string's code units, a list's or map's entries. */
export interface Shape {
  kind: 'string' | 'list' | 'map' | 'scalar' | 'any';
  max: number;
  item?: Shape;
  fields?: Readonly<Record<string, Shape>>;
  /** Part of the request: scanning all of it costs no more than the body limit allows. */
  data?: boolean;
}

const LIMIT = MAX_ARGS_BYTES;
export const UNBOUNDED_STRING = LIMIT;
export const UNBOUNDED_LIST = LIMIT / 2;
export const UNBOUNDED_MAP = LIMIT / 4;

const SCALAR: Shape = { kind: 'scalar', max: 0 };
/** Anything the request may carry: bounded only by the body limit. */
const ANY: Shape = { kind: 'any', max: LIMIT, data: true };
(ANY as { item?: Shape }).item = ANY;

const str = (max: number): Shape => ({ kind: 'string', max });

/** The shape of the values a JSON Schema admits. */
export function shapeOfSchema(schema: JsonSchema | undefined, depth = 0): Shape {
  const shape = schemaShape(schema, depth);
  return shape === ANY || shape === SCALAR ? shape : { ...shape, data: true };
}

function schemaShape(schema: JsonSchema | undefined, depth: number): Shape {
  if (!schema || depth > 32) return ANY;
  if (Array.isArray(schema.enum) && schema.enum.every((v) => typeof v !== 'object' || v === null)) {
    return str(Math.max(0, ...schema.enum.map((v) => (typeof v === 'string' ? v.length : 0))));
  }
  switch (schema.type) {
    case 'number':
    case 'integer':
    case 'boolean':
    case 'null':
      return SCALAR;
    case 'string':
      return str(typeof schema.maxLength === 'number' ? Math.min(2 * schema.maxLength, LIMIT) : UNBOUNDED_STRING);
    case 'array': {
      const items = schema.items;
      const item = items && typeof items === 'object' && !Array.isArray(items) ? shapeOfSchema(items as JsonSchema, depth + 1) : ANY;
      return { kind: 'list', max: typeof schema.maxItems === 'number' ? Math.min(schema.maxItems, UNBOUNDED_LIST) : UNBOUNDED_LIST, item };
    }
    case 'object': {
      const properties = schema.properties as Record<string, JsonSchema> | undefined;
      if (!properties || typeof properties !== 'object') return { kind: 'map', max: UNBOUNDED_MAP, item: ANY };
      const fields = Object.fromEntries(Object.entries(properties).map(([name, sub]) => [name, shapeOfSchema(sub, depth + 1)]));
      const open = schema.additionalProperties !== false;
      return { kind: 'map', max: open ? UNBOUNDED_MAP : Object.keys(fields).length, fields, ...(open ? { item: ANY } : {}) };
    }
    default:
      return ANY;
  }
}

/** The shapes of the variables every condition sees, with `args` from the tool's declared arguments. */
export function variableShapes(args: Record<string, JsonSchema>, additionalArgs: boolean): Map<string, Shape> {
  const name = str(512); // names are at most 256 characters (request.ts)
  return new Map<string, Shape>([
    ['args', shapeOfSchema({ type: 'object', properties: args, additionalProperties: additionalArgs })],
    ['agent', name],
    ['role', name],
    ['environment', name],
    ['tool', name],
    // At most 32 attributes and the id, each a scalar or a string of at most 256 characters.
    ['session', { kind: 'map', max: 33, item: str(512) }],
    ['time', { kind: 'map', max: 5, fields: { hour: SCALAR, minute: SCALAR, weekday: SCALAR, unix: SCALAR, date: str(10) }, item: SCALAR }],
    ['novel', { kind: 'map', max: UNBOUNDED_MAP, item: SCALAR }],
    ['hours', { kind: 'map', max: UNBOUNDED_MAP, item: SCALAR }],
  ]);
}

interface Estimate {
  cost: number;
  shape: Shape;
}

/**
 * Whether the expression contains work the runtime meter charges (a comprehension, a regular
 * expression, a string or list scan); set while estimating. Expressions without any (thresholds,
 * scalar and string comparisons) run without a meter.
 */
let metered = false;

/**
 * The estimated worst-case cost of one evaluation of `ast`, in cost units (cost.ts), and whether
 * evaluating it charges the meter at all.
 */
export function estimateCost(ast: ASTNode, variables: ReadonlyMap<string, Shape>): { cost: number; metered: boolean } {
  metered = false;
  const { cost } = estimate(ast, variables);
  return { cost, metered };
}

const mayBeObject = (shape: Shape): boolean => shape.kind === 'list' || shape.kind === 'map' || shape.kind === 'any';
const mayBeString = (shape: Shape): boolean => shape.kind === 'string' || shape.kind === 'any';

function merge(a: Shape, b: Shape, depth = 0): Shape {
  if (a === b) return a;
  if (a === ANY || b === ANY || depth > 8) return ANY;
  const kind = a.kind === b.kind ? a.kind : 'any';
  const out: Shape = { kind, max: Math.max(a.max, b.max) };
  if (a.item || b.item) out.item = merge(a.item ?? ANY, b.item ?? ANY, depth + 1);
  if (a.fields && b.fields && kind === 'map') {
    const names = new Set([...Object.keys(a.fields), ...Object.keys(b.fields)]);
    out.fields = Object.fromEntries([...names].map((n) => [n, merge(a.fields?.[n] ?? ANY, b.fields?.[n] ?? ANY, depth + 1)]));
  } else if (a.fields || b.fields) {
    out.item = ANY;
  }
  return out;
}

/** The shape of a map's field or a list's element. */
function member(shape: Shape, field: string | undefined): Shape {
  if (shape.kind === 'scalar' || shape.kind === 'string') return ANY; // an error at run time; costs nothing
  if (field !== undefined && shape.fields && Object.hasOwn(shape.fields, field)) return shape.fields[field] as Shape;
  if (shape.fields && !shape.item) {
    const values = Object.values(shape.fields);
    return values.length === 0 ? ANY : values.reduce((x, y) => merge(x, y));
  }
  return shape.item ?? ANY;
}

/** What scanning a value once costs at most: its code units, or its elements and theirs. */
function work(shape: Shape, depth = 0): number {
  switch (shape.kind) {
    case 'scalar':
      return 0;
    case 'string':
      return shape.max * CHAR_COST;
    case 'any':
      // Data from the request: a 1 MiB body holds at most this many elements, or code units.
      return LIMIT * ELEMENT_COST;
    default: {
      if (depth > 8) return LIMIT * ELEMENT_COST;
      const fields = shape.fields ? Object.values(shape.fields) : [];
      const each = Math.max(fields.reduce((m, f) => Math.max(m, work(f, depth + 1)), 0), shape.item ? work(shape.item, depth + 1) : 0);
      const total = shape.max * (ELEMENT_COST + each);
      return shape.data ? Math.min(total, LIMIT * ELEMENT_COST) : total;
    }
  }
}

/** Comparing two values (==, !=, in, ordering): bounded by the smaller one. */
function compareCost(a: Shape, b: Shape): number {
  if (a.kind === 'scalar' || b.kind === 'scalar') return 0;
  return Math.min(work(a), work(b));
}

const MACROS = new Set(['all', 'exists', 'exists_one', 'filter', 'map']);

function estimate(node: ASTNode, scope: ReadonlyMap<string, Shape>): Estimate {
  const sum = (...parts: Estimate[]): number => parts.reduce((total, part) => total + part.cost, 0);
  switch (node.op) {
    case 'value':
      return { cost: 0, shape: typeof node.args === 'string' ? str(node.args.length) : SCALAR };
    case 'id':
      return { cost: 0, shape: scope.get(node.args) ?? ANY };
    case '.': {
      const [target, field] = node.args;
      const t = estimate(target, scope);
      return { cost: t.cost, shape: member(t.shape, field) };
    }
    case '[]': {
      const [target, index] = node.args;
      const t = estimate(target, scope);
      const i = estimate(index, scope);
      const key = index.op === 'value' && typeof index.args === 'string' ? index.args : undefined;
      // A map key is hashed: its length.
      return { cost: sum(t, i) + (i.shape.kind === 'scalar' ? 0 : i.shape.max * CHAR_COST), shape: member(t.shape, key) };
    }
    case 'list': {
      const items = node.args.map((item) => estimate(item, scope));
      const item = items.length === 0 ? SCALAR : items.map((e) => e.shape).reduce((x, y) => merge(x, y));
      return { cost: sum(...items), shape: { kind: 'list', max: items.length, item } };
    }
    case 'map': {
      const entries = node.args.map(([k, v]) => [estimate(k, scope), estimate(v, scope)] as const);
      const values = entries.map(([, v]) => v.shape);
      const item = values.length === 0 ? SCALAR : values.reduce((x, y) => merge(x, y));
      return { cost: entries.reduce((total, [k, v]) => total + k.cost + v.cost + k.shape.max * CHAR_COST, 0), shape: { kind: 'map', max: entries.length, item } };
    }
    case '&&':
    case '||': {
      const [l, r] = node.args.map((n) => estimate(n, scope)) as [Estimate, Estimate];
      return { cost: sum(l, r), shape: SCALAR };
    }
    case '!_':
    case '-_': {
      const operand = estimate(node.args, scope);
      return { cost: operand.cost, shape: SCALAR };
    }
    case '?:': {
      const [c, t, f] = node.args.map((n) => estimate(n, scope)) as [Estimate, Estimate, Estimate];
      return { cost: sum(c, t, f), shape: merge(t.shape, f.shape) };
    }
    case '==':
    case '!=':
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const [l, r] = node.args.map((n) => estimate(n, scope)) as [Estimate, Estimate];
      if ((node.op === '==' || node.op === '!=') && mayBeObject(l.shape) && mayBeObject(r.shape)) metered = true;
      return { cost: sum(l, r) + compareCost(l.shape, r.shape), shape: SCALAR };
    }
    case '+':
    case '-':
    case '*':
    case '/':
    case '%': {
      const [l, r] = node.args.map((n) => estimate(n, scope)) as [Estimate, Estimate];
      if (node.op !== '+' || l.shape.kind === 'scalar' || r.shape.kind === 'scalar') return { cost: sum(l, r), shape: SCALAR };
      // String or list concatenation: a copy of both.
      metered = true;
      const shape = merge(l.shape, r.shape);
      const joined: Shape = { ...shape, max: l.shape.max + r.shape.max };
      const copy = Math.max((l.shape.max + r.shape.max) * CHAR_COST, l.shape.kind === 'string' ? 0 : (l.shape.max + r.shape.max) * ELEMENT_COST);
      return { cost: sum(l, r) + copy, shape: joined };
    }
    case 'in': {
      const [needleNode, haystackNode] = node.args;
      const needle = estimate(needleNode, scope);
      const haystack = estimate(haystackNode, scope);
      const h = haystack.shape;
      if (!(haystackNode.op === 'list' && haystackNode.args.every((item) => item.op === 'value'))) metered = true;
      const search = h.kind === 'map' ? (needle.shape.kind === 'scalar' ? 0 : needle.shape.max * CHAR_COST) : h.max * (ELEMENT_COST + compareCost(needle.shape, member(h, undefined)));
      return { cost: sum(needle, haystack) + search, shape: SCALAR };
    }
    case 'call': {
      const [name, argNodes] = node.args;
      if (name === 'has') {
        const [selection] = argNodes;
        return { cost: selection && selection.op === '.' ? estimate(selection.args[0], scope).cost : 0, shape: SCALAR };
      }
      const args = argNodes.map((n) => estimate(n, scope));
      const [first] = args;
      if (args.length === 2) return stringFunction(name, args[0] as Estimate, argNodes[1] as ASTNode, args[1] as Estimate);
      if (!first) return { cost: 0, shape: SCALAR };
      switch (name) {
        case 'dyn':
          return first;
        case 'size':
          if (mayBeString(first.shape)) metered = true;
          return { cost: first.cost + scanString(first.shape), shape: SCALAR };
        case 'string':
          return { cost: first.cost + scanString(first.shape), shape: first.shape.kind === 'string' ? first.shape : str(32) };
        default:
          // size, int, double: a string is scanned once.
          return { cost: first.cost + scanString(first.shape), shape: SCALAR };
      }
    }
    case 'rcall': {
      const [name, receiverNode, argNodes] = node.args;
      if (MACROS.has(name)) return comprehension(name, receiverNode, argNodes, scope);
      const receiver = estimate(receiverNode, scope);
      const [argNode] = argNodes;
      if (argNodes.length === 1 && argNode) return stringFunction(name, receiver, argNode, estimate(argNode, scope));
      // size, lowerAscii, upperAscii, trim: one scan of a string.
      if (mayBeString(receiver.shape)) metered = true;
      const shape = name === 'size' ? SCALAR : receiver.shape;
      return { cost: receiver.cost + scanString(receiver.shape), shape };
    }
    default:
      // Not compiled (cel_unsupported) either: nothing to estimate.
      return { cost: 0, shape: ANY };
  }
}

/** A string's scan; anything else (a list's size) is constant. */
function scanString(shape: Shape): number {
  return shape.kind === 'string' || shape.kind === 'any' ? shape.max * CHAR_COST : 0;
}

function stringFunction(name: string, receiver: Estimate, argNode: ASTNode, arg: Estimate): Estimate {
  const base = receiver.cost + arg.cost;
  const subject = receiver.shape.kind === 'scalar' ? 0 : receiver.shape.max;
  switch (name) {
    case 'contains':
      metered = true;
      return { cost: base + subject * CHAR_COST, shape: SCALAR };
    case 'startsWith':
    case 'endsWith':
      return { cost: base + Math.min(subject, arg.shape.max) * CHAR_COST, shape: SCALAR };
    case 'matches': {
      metered = true;
      if (argNode.op === 'value' && typeof argNode.args === 'string') {
        let weight: number;
        try {
          weight = regexWeight(compileRegex(argNode.args));
        } catch {
          return { cost: base, shape: SCALAR }; // reported by the compiler
        }
        return { cost: base + regexRunCost(subject, weight), shape: SCALAR };
      }
      const pattern = arg.shape.kind === 'scalar' ? 0 : arg.shape.max;
      return { cost: base + pattern * REGEX_COMPILE_COST + regexRunCost(subject, pattern * ASSUMED_WEIGHT_PER_PATTERN_CHAR), shape: SCALAR };
    }
    default:
      return { cost: base, shape: ANY };
  }
}

function comprehension(name: string, receiverNode: ASTNode, argNodes: ASTNode[], scope: ReadonlyMap<string, Shape>): Estimate {
  metered = true;
  const receiver = estimate(receiverNode, scope);
  const [variable, body] = argNodes;
  const r = receiver.shape;
  const count = r.kind === 'scalar' || r.kind === 'string' ? 0 : r.max;
  // A map's comprehension visits its keys.
  const element = r.kind === 'map' ? str(r.fields && !r.item ? Math.max(0, ...Object.keys(r.fields).map((k) => 2 * k.length)) : UNBOUNDED_STRING) : member(r, undefined);
  if (!variable || variable.op !== 'id' || !body) return { cost: receiver.cost, shape: ANY };
  const inner = new Map(scope);
  inner.set(variable.args, element);
  const b = estimate(body, inner);
  const cost = receiver.cost + count * (ITERATION_COST + b.cost);
  if (name === 'filter') return { cost, shape: { kind: 'list', max: count, item: element } };
  if (name === 'map') return { cost, shape: { kind: 'list', max: count, item: b.shape } };
  return { cost, shape: SCALAR };
}
