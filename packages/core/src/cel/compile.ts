import type { ASTNode, Environment } from '@marcbachmann/cel-js';
import type { RE2JS } from 're2js';
import {
  CHAR_COST,
  charge,
  compileRegex,
  ELEMENT_COST,
  EvaluationLimitError,
  ITERATION_COST,
  REGEX_COMPILE_COST,
  regexRunCost,
  regexWeight,
} from './cost.js';

/**
 * Compiles a type-checked CEL expression into a JavaScript closure, once per policy version.
 *
 * cel-js parses and type-checks; walking its AST on every call costs ~300 ns per condition, so the
 * hot path instead runs closures built here. Values follow JSON: every CEL number is a JS number
 * (ints are integral numbers), lists are arrays, maps are plain objects. Only own properties are
 * ever read, so `args.constructor` or `__proto__` can never reach the prototype chain.
 *
 * Anything outside the supported subset is a load-time `cel_unsupported` error, never a surprise
 * at decision time.
 *
 * Work that grows with the data (comprehensions, regular expressions, string and list work) is
 * charged to the decision's meter (cost.ts) before it is done; constant-time nodes charge nothing.
 */

/** The variables of one evaluation: any object whose properties (own or inherited getters) are the names. */
export type Activation = object;
export type CompiledExpression = (activation: Activation) => unknown;

/** Raised while evaluating a compiled expression (missing key, bad index, division by zero...). */
export class CelRuntimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CelRuntimeError';
  }
}

/** Raised at compile time for constructs the closure compiler does not support. */
export class CelUnsupportedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CelUnsupportedError';
  }
}

type Node = ASTNode;

interface CompileContext {
  env: Environment;
  source: string;
}

export function compileCel(ast: Node, env: Environment, source: string): CompiledExpression {
  return compileNode(ast, { env, source });
}

const hasOwn = Object.prototype.hasOwnProperty;

function fail(message: string): never {
  throw new CelRuntimeError(message);
}

function readField(target: unknown, field: string): unknown {
  if (target === null || typeof target !== 'object' || Array.isArray(target)) {
    fail(`cannot select field '${field}' from a non-map value`);
  }
  if (!hasOwn.call(target, field)) fail(`no such key: ${field}`);
  return (target as Record<string, unknown>)[field];
}

function literal(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return value;
  }
  throw new CelUnsupportedError(`literal of type ${typeof value} is not supported`);
}

export function celEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!celEquals(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  for (const key of aKeys) {
    if (!hasOwn.call(b, key)) return false;
    if (!celEquals((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}

function compare(op: string, a: unknown, b: unknown): boolean {
  const ta = typeof a;
  if ((ta === 'number' || ta === 'string') && typeof b === ta) {
    switch (op) {
      case '<':
        return (a as number) < (b as number);
      case '<=':
        return (a as number) <= (b as number);
      case '>':
        return (a as number) > (b as number);
      default:
        return (a as number) >= (b as number);
    }
  }
  if (ta === 'boolean' && typeof b === 'boolean') {
    const x = Number(a);
    const y = Number(b);
    return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
  }
  return fail(`no such overload: ${describe(a)} ${op} ${describe(b)}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  return typeof value === 'object' ? 'map' : typeof value;
}

/** Code points of a string (CEL's size), without materialising them. */
function codePoints(value: string): number {
  let count = value.length;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}

/** What a value costs to scan once: its code units, or its elements. */
function workOf(value: unknown): number {
  if (typeof value === 'string') return value.length * CHAR_COST;
  if (Array.isArray(value)) return value.length * ELEMENT_COST;
  if (value !== null && typeof value === 'object') return Object.keys(value).length * ELEMENT_COST;
  return 0;
}

function size(value: unknown): number {
  if (typeof value === 'string') return codePoints(value);
  if (Array.isArray(value)) return value.length;
  if (value !== null && typeof value === 'object') return Object.keys(value).length;
  return fail(`size() of ${describe(value)}`);
}

function asString(value: unknown, fn: string): string {
  if (typeof value !== 'string') fail(`${fn}() expects a string, got ${describe(value)}`);
  return value;
}

/** A string argument whose every code unit the function will visit: charged before it runs. */
function chargedString(a: Activation, value: unknown, fn: string): string {
  const text = asString(value, fn);
  charge(a, text.length * CHAR_COST);
  return text;
}

function expectBool(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') fail(`${what} must be a bool, got ${describe(value)}`);
  return value;
}

function staticType(node: Node, ctx: CompileContext): string | undefined {
  const text = ctx.source.slice(node.start, node.end);
  const result = ctx.env.check(text);
  return result.valid ? result.type : undefined;
}

function compileNode(node: Node, ctx: CompileContext): CompiledExpression {
  switch (node.op) {
    case 'value': {
      const value = literal(node.args);
      return () => value;
    }
    case 'id': {
      // The type checker has already rejected undeclared names; macro scopes chain to the root
      // activation through their prototype, so a plain read finds both kinds.
      const name = node.args;
      return (a) => (a as Record<string, unknown>)[name];
    }
    case '.': {
      const [target, field] = node.args;
      const inner = compileNode(target, ctx);
      return (a) => readField(inner(a), field);
    }
    case '[]': {
      const [target, index] = node.args;
      const t = compileNode(target, ctx);
      const i = compileNode(index, ctx);
      return (a) => {
        const container = t(a);
        const key = i(a);
        if (Array.isArray(container)) {
          if (typeof key !== 'number' || !Number.isInteger(key)) fail('list index must be an int');
          if (key < 0 || key >= container.length) fail(`index out of range: ${key}`);
          return container[key];
        }
        if (typeof key !== 'string') fail('map key must be a string');
        return readField(container, key);
      };
    }
    case 'list': {
      const items = node.args.map((item) => compileNode(item, ctx));
      return (a) => items.map((item) => item(a));
    }
    case 'map': {
      const entries = node.args.map(([k, v]) => [compileNode(k, ctx), compileNode(v, ctx)] as const);
      return (a) => {
        const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
        for (const [k, v] of entries) {
          const key = k(a);
          if (typeof key !== 'string') fail('map keys must be strings');
          out[key] = v(a);
        }
        return out;
      };
    }
    case '&&':
    case '||': {
      const [l, r] = node.args.map((n) => compileNode(n, ctx)) as [CompiledExpression, CompiledExpression];
      return logical(node.op, l, r);
    }
    case '!_': {
      const operand = compileNode(node.args, ctx);
      return (a) => !expectBool(operand(a), 'operand of !');
    }
    case '-_': {
      const operand = compileNode(node.args, ctx);
      return (a) => {
        const v = operand(a);
        if (typeof v !== 'number') fail(`no such overload: -${describe(v)}`);
        return -v;
      };
    }
    case '?:': {
      const [c, t, f] = node.args.map((n) => compileNode(n, ctx)) as [
        CompiledExpression,
        CompiledExpression,
        CompiledExpression,
      ];
      return (a) => (expectBool(c(a), 'condition of ?:') ? t(a) : f(a));
    }
    case '==':
    case '!=': {
      const [l, r] = node.args.map((n) => compileNode(n, ctx)) as [CompiledExpression, CompiledExpression];
      const equals = (a: Activation): boolean => {
        const x = l(a);
        const y = r(a);
        // Lists and maps compare element by element: charged by the smaller (equal sizes, else O(1)).
        if (typeof x === 'object' && x !== null && typeof y === 'object' && y !== null) charge(a, Math.min(workOf(x), workOf(y)));
        return celEquals(x, y);
      };
      return node.op === '==' ? equals : (a) => !equals(a);
    }
    case '<':
    case '<=':
    case '>':
    case '>=':
      return compileComparison(node.op, node.args, ctx);
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
      return compileArithmetic(node.op, node.args, ctx);
    case 'in':
      return compileIn(node.args, ctx);
    case 'call':
      return compileCall(node.args[0], node.args[1], ctx);
    case 'rcall':
      return compileReceiverCall(node.args[0], node.args[1], node.args[2], ctx);
    default:
      throw new CelUnsupportedError(`operator '${node.op}' is not supported`);
  }
}

/**
 * `&&` and `||` with CEL's commutative error semantics: the absorbing value (false for `&&`, true
 * for `||`) on either side wins over an error on the other.
 */
function logical(op: '&&' | '||', l: CompiledExpression, r: CompiledExpression): CompiledExpression {
  const absorbing = op === '||';
  const what = `operand of ${op}`;
  return (a) => {
    let left: unknown;
    try {
      left = l(a);
    } catch (error) {
      // A spent budget is not a CEL error: nothing may absorb it.
      if (error instanceof EvaluationLimitError) throw error;
      if (r(a) === absorbing) return absorbing;
      throw error;
    }
    if (left === absorbing) return absorbing;
    const right = expectBool(r(a), what);
    expectBool(left, what);
    return right;
  };
}

function compileComparison(op: '<' | '<=' | '>' | '>=', args: [Node, Node], ctx: CompileContext): CompiledExpression {
  const [ln, rn] = args;
  const l = compileNode(ln, ctx);
  // The overwhelmingly common shape is `path <op> literal`; specialise it so a threshold check is
  // one type test and one comparison.
  if (rn.op === 'value' && (typeof rn.args === 'bigint' || typeof rn.args === 'number')) {
    const bound = Number(rn.args);
    switch (op) {
      case '<':
        return (a) => {
          const v = l(a);
          return typeof v === 'number' ? v < bound : compare(op, v, bound);
        };
      case '<=':
        return (a) => {
          const v = l(a);
          return typeof v === 'number' ? v <= bound : compare(op, v, bound);
        };
      case '>':
        return (a) => {
          const v = l(a);
          return typeof v === 'number' ? v > bound : compare(op, v, bound);
        };
      default:
        return (a) => {
          const v = l(a);
          return typeof v === 'number' ? v >= bound : compare(op, v, bound);
        };
    }
  }
  const r = compileNode(rn, ctx);
  return (a) => compare(op, l(a), r(a));
}

function compileArithmetic(op: '+' | '-' | '*' | '/' | '%', args: [Node, Node], ctx: CompileContext): CompiledExpression {
  const [ln, rn] = args;
  const l = compileNode(ln, ctx);
  const r = compileNode(rn, ctx);
  if (op === '+') {
    return (a) => {
      const x = l(a);
      const y = r(a);
      if (typeof x === 'number' && typeof y === 'number') return x + y;
      if (typeof x === 'string' && typeof y === 'string') {
        charge(a, (x.length + y.length) * CHAR_COST);
        return x + y;
      }
      if (Array.isArray(x) && Array.isArray(y)) {
        charge(a, (x.length + y.length) * ELEMENT_COST);
        return [...x, ...y];
      }
      return fail(`no such overload: ${describe(x)} + ${describe(y)}`);
    };
  }
  const numbers = (a: Activation): [number, number] => {
    const x = l(a);
    const y = r(a);
    if (typeof x !== 'number' || typeof y !== 'number') fail(`no such overload: ${describe(x)} ${op} ${describe(y)}`);
    return [x, y];
  };
  if (op === '-') return (a) => numbers(a).reduce((x, y) => x - y);
  if (op === '*') return (a) => numbers(a).reduce((x, y) => x * y);
  // Integer division truncates in CEL, double division does not: JS numbers can't tell 4 from 4.0,
  // so ask the type checker which one this is.
  const type = staticType(ln, ctx);
  if (type !== 'int' && type !== 'double' && type !== 'uint') {
    throw new CelUnsupportedError(`cannot determine the numeric type of the operands of '${op}'`);
  }
  const integral = type !== 'double';
  return (a) => {
    const [x, y] = numbers(a);
    if (integral && y === 0) fail(op === '/' ? 'division by zero' : 'modulus by zero');
    if (op === '/') return integral ? Math.trunc(x / y) : x / y;
    return x % y;
  };
}

function compileIn(args: [Node, Node], ctx: CompileContext): CompiledExpression {
  const [needleNode, haystackNode] = args;
  const needle = compileNode(needleNode, ctx);
  // `x in ['a', 'b']` with primitive literals: a Set lookup.
  if (haystackNode.op === 'list' && haystackNode.args.every((item) => item.op === 'value')) {
    const values = new Set(haystackNode.args.map((item) => literal(item.args)));
    return (a) => {
      const v = needle(a);
      return values.has(v);
    };
  }
  const haystack = compileNode(haystackNode, ctx);
  return (a) => {
    const v = needle(a);
    const container = haystack(a);
    if (Array.isArray(container)) {
      charge(a, container.length * ELEMENT_COST);
      return container.some((item) => celEquals(item, v));
    }
    if (container !== null && typeof container === 'object') {
      return typeof v === 'string' && hasOwn.call(container, v);
    }
    return fail(`'in' needs a list or map, got ${describe(container)}`);
  };
}

function compileCall(name: string, argNodes: Node[], ctx: CompileContext): CompiledExpression {
  if (name === 'has') {
    const [selection] = argNodes;
    if (argNodes.length !== 1 || !selection || selection.op !== '.') {
      throw new CelUnsupportedError('has() needs a field selection, e.g. has(args.note)');
    }
    const [target, field] = selection.args;
    const t = compileNode(target, ctx);
    return (a) => {
      const container = t(a);
      return container !== null && typeof container === 'object' && hasOwn.call(container, field);
    };
  }
  const fns = argNodes.map((n) => compileNode(n, ctx));
  const [first, second] = fns;
  if (fns.length === 1 && first) {
    switch (name) {
      case 'size':
        return (a) => {
          const value = first(a);
          if (typeof value === 'string') charge(a, value.length * CHAR_COST);
          return size(value);
        };
      case 'dyn':
        return first;
      case 'int':
        return (a) => toInt(first(a));
      case 'double':
        return (a) => toDouble(first(a));
      case 'string':
        return (a) => toCelString(first(a));
      default:
        break;
    }
  }
  if (fns.length === 2 && first && second && ['startsWith', 'endsWith', 'contains', 'matches'].includes(name)) {
    return compileStringFunction(name, first, argNodes[1] as Node, second);
  }
  throw new CelUnsupportedError(`function '${name}' with ${fns.length} argument(s) is not supported`);
}

function toInt(v: unknown): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) fail('int() of a non-finite number');
    return Math.trunc(v);
  }
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  return fail(`int() of ${describe(v)}`);
}

function toDouble(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return fail(`double() of ${describe(v)}`);
}

function toCelString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return fail(`string() of ${describe(v)}`);
}

function compileStringFunction(
  name: string,
  receiver: CompiledExpression,
  argNode: Node,
  arg: CompiledExpression,
): CompiledExpression {
  switch (name) {
    case 'startsWith':
      return (a) => asString(receiver(a), name).startsWith(asString(arg(a), name));
    case 'endsWith':
      return (a) => asString(receiver(a), name).endsWith(asString(arg(a), name));
    case 'contains':
      return (a) => chargedString(a, receiver(a), name).includes(asString(arg(a), name));
    default:
      return compileMatches(receiver, argNode, arg);
  }
}

/** Compiled non-literal patterns kept per `matches` call site (a pattern argument often repeats). */
const PATTERN_CACHE_SIZE = 64;

/**
 * `matches` with RE2 semantics, as CEL specifies: an unanchored search in time linear in the
 * subject (no backtracking, so no pattern makes a subject take exponential time). Every run is
 * charged its cost (subject length times program weight) before it starts, so a pattern too heavy
 * for its subject is stopped by the budget instead of holding the event loop.
 */
function compileMatches(receiver: CompiledExpression, argNode: Node, arg: CompiledExpression): CompiledExpression {
  // A literal pattern is compiled once; one RE2 rejects (backreferences, lookaround) is a load error.
  if (argNode.op === 'value' && typeof argNode.args === 'string') {
    let pattern: RE2JS;
    try {
      pattern = compileRegex(argNode.args);
    } catch (error) {
      throw new CelUnsupportedError(`invalid regular expression for matches() (RE2 syntax): ${(error as Error).message}`);
    }
    const weight = regexWeight(pattern);
    return (a) => {
      const subject = asString(receiver(a), 'matches');
      charge(a, regexRunCost(subject.length, weight));
      return pattern.test(subject);
    };
  }
  const cache = new Map<string, { pattern: RE2JS; weight: number } | string>();
  return (a) => {
    const subject = asString(receiver(a), 'matches');
    const source = asString(arg(a), 'matches');
    // Charged whether or not the cache has it, so a decision never depends on earlier ones.
    charge(a, source.length * REGEX_COMPILE_COST);
    let compiled = cache.get(source);
    if (compiled === undefined) {
      try {
        const pattern = compileRegex(source);
        compiled = { pattern, weight: regexWeight(pattern) };
      } catch (error) {
        compiled = `invalid regular expression for matches() (RE2 syntax): ${(error as Error).message}`;
      }
      if (cache.size >= PATTERN_CACHE_SIZE) cache.clear();
      cache.set(source, compiled);
    }
    if (typeof compiled === 'string') return fail(compiled);
    charge(a, regexRunCost(subject.length, compiled.weight));
    return compiled.pattern.test(subject);
  };
}

const MACROS = new Set(['all', 'exists', 'exists_one', 'filter', 'map']);

function compileReceiverCall(name: string, receiverNode: Node, argNodes: Node[], ctx: CompileContext): CompiledExpression {
  if (MACROS.has(name)) return compileMacro(name, receiverNode, argNodes, ctx);
  const receiver = compileNode(receiverNode, ctx);
  if (argNodes.length === 0) {
    switch (name) {
      case 'size':
        return (a) => {
          const value = receiver(a);
          if (typeof value === 'string') charge(a, value.length * CHAR_COST);
          return size(value);
        };
      case 'lowerAscii':
        return (a) => chargedString(a, receiver(a), name).replace(/[A-Z]/g, (c) => c.toLowerCase());
      case 'upperAscii':
        return (a) => chargedString(a, receiver(a), name).replace(/[a-z]/g, (c) => c.toUpperCase());
      case 'trim':
        return (a) => chargedString(a, receiver(a), name).trim();
      default:
        break;
    }
  }
  const [argNode] = argNodes;
  if (argNodes.length === 1 && argNode && ['startsWith', 'endsWith', 'contains', 'matches'].includes(name)) {
    return compileStringFunction(name, receiver, argNode, compileNode(argNode, ctx));
  }
  throw new CelUnsupportedError(`method '${name}' with ${argNodes.length} argument(s) is not supported`);
}

function compileMacro(name: string, receiverNode: Node, argNodes: Node[], ctx: CompileContext): CompiledExpression {
  const [variable, body] = argNodes;
  if (argNodes.length !== 2 || !variable || variable.op !== 'id' || !body) {
    throw new CelUnsupportedError(`${name}() takes a variable and an expression, e.g. ids.all(id, id != "")`);
  }
  const receiver = compileNode(receiverNode, ctx);
  const local = variable.args;
  const inner = compileNode(body, ctx);
  const what = `${name}() predicate`;
  /** The elements to visit (a map's keys), charged up front: the loop never starts past the budget. */
  const elements = (a: Activation): unknown[] => {
    const container = receiver(a);
    const items = Array.isArray(container)
      ? container
      : container !== null && typeof container === 'object'
        ? Object.keys(container)
        : fail(`${name}() needs a list or map`);
    charge(a, items.length * ITERATION_COST);
    return items;
  };
  // One scope per evaluation: the variable is rebound for each element.
  const scopeOf = (a: Activation): Record<string, unknown> => Object.create(a) as Record<string, unknown>;
  switch (name) {
    case 'all':
      return (a) => {
        const items = elements(a);
        const scope = scopeOf(a);
        for (let i = 0; i < items.length; i++) {
          scope[local] = items[i];
          if (!expectBool(inner(scope), what)) return false;
        }
        return true;
      };
    case 'exists':
      return (a) => {
        const items = elements(a);
        const scope = scopeOf(a);
        for (let i = 0; i < items.length; i++) {
          scope[local] = items[i];
          if (expectBool(inner(scope), what)) return true;
        }
        return false;
      };
    case 'exists_one':
    case 'filter':
      return (a) => {
        const items = elements(a);
        const scope = scopeOf(a);
        const kept: unknown[] = [];
        for (let i = 0; i < items.length; i++) {
          scope[local] = items[i];
          if (expectBool(inner(scope), what)) kept.push(items[i]);
        }
        return name === 'filter' ? kept : kept.length === 1;
      };
    default:
      return (a) => {
        const items = elements(a);
        const scope = scopeOf(a);
        const out = new Array<unknown>(items.length);
        for (let i = 0; i < items.length; i++) {
          scope[local] = items[i];
          out[i] = inner(scope);
        }
        return out;
      };
  }
}
