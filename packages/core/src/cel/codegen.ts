import type { ASTNode, Environment } from '@marcbachmann/cel-js';
import { compileCel, type CompiledExpression } from './compile.js';

/**
 * Generates JavaScript source for the part of a CEL expression whose evaluation provably cannot
 * raise a CEL error, and compiles it once with `new Function`: a threshold such as
 * `args.amount > 50 && args.amount <= 500` becomes `(a.args.amount > 50 && a.args.amount <= 500)`,
 * which V8 optimises like hand-written code.
 *
 * "Provably" comes from two facts established before a condition runs: the arguments passed the
 * tool's schema (so a required argument is present with its declared type), and the cel-js type
 * checker's static types. Every subtree that cannot be proven safe is compiled by the closure
 * compiler (compile.ts) and called from the generated code, so both paths share one semantics;
 * a differential test holds them to it. Only literals (JSON-encoded), validated identifiers and
 * helper references are ever written into the generated source.
 */

type Node = ASTNode;

export interface CodegenOptions {
  /** Top-level arguments the schema guarantees present: they are read without presence checks. */
  requiredArgs: ReadonlySet<string>;
}

interface Generated {
  code: string;
  /** Static CEL type when known: 'int', 'double', 'string', 'bool', 'list<…>', … */
  type: string | undefined;
  /** True when evaluating `code` cannot throw. */
  safe: boolean;
}

interface Context {
  env: Environment;
  source: string;
  options: CodegenOptions;
  /** Values the generated code refers to as `<name>[i]`: fallback closures, sets, regular expressions. */
  constants: unknown[];
  constantsName: string;
}

/** A condition as JavaScript source over the activation `a`, for embedding in a larger function. */
export interface ConditionSource {
  code: string;
  /** True when evaluating `code` cannot throw and always yields a bool. */
  safe: boolean;
  /** The array the code refers to by `constantsName`. */
  constants: unknown[];
  constantsName: string;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const NUMERIC = new Set(['int', 'uint', 'double']);
const PRIMITIVE = new Set(['int', 'uint', 'double', 'string', 'bool']);

export function generateConditionSource(
  ast: Node,
  env: Environment,
  source: string,
  options: CodegenOptions,
  constantsName = 'k',
): ConditionSource {
  const ctx: Context = { env, source, options, constants: [], constantsName };
  const generated = generate(ast, ctx);
  return { code: generated.code, safe: generated.safe && generated.type === 'bool', constants: ctx.constants, constantsName };
}

/** One condition as a function of the activation. */
export function compileConditionSource(condition: ConditionSource): CompiledExpression {
  const factory = new Function(condition.constantsName, `'use strict'; return function condition(a) { return ${condition.code}; };`) as (
    k: unknown[],
  ) => CompiledExpression;
  return factory(condition.constants);
}

function staticType(node: Node, ctx: Context): string | undefined {
  const result = ctx.env.check(ctx.source.slice(node.start, node.end));
  return result.valid ? result.type : undefined;
}

function constant(ctx: Context, value: unknown): string {
  ctx.constants.push(value);
  return `${ctx.constantsName}[${ctx.constants.length - 1}]`;
}

/** The closure compiler's version of a subtree, called from generated code. */
function fallback(node: Node, ctx: Context): Generated {
  const closure = compileCel(node, ctx.env, ctx.source);
  return { code: `${constant(ctx, closure)}(a)`, type: staticType(node, ctx), safe: false };
}

function property(target: string, name: string): string {
  return IDENTIFIER.test(name) ? `${target}.${name}` : `${target}[${JSON.stringify(name)}]`;
}

function generate(node: Node, ctx: Context): Generated {
  switch (node.op) {
    case 'value': {
      const value = node.args;
      if (typeof value === 'bigint') return { code: `(${Number(value)})`, type: 'int', safe: true };
      if (typeof value === 'number' && Number.isFinite(value)) return { code: `(${value})`, type: 'double', safe: true };
      if (typeof value === 'string') return { code: JSON.stringify(value), type: 'string', safe: true };
      if (typeof value === 'boolean') return { code: String(value), type: 'bool', safe: true };
      return fallback(node, ctx);
    }
    case '.': {
      // `args.<required>`: present with its declared type once the schema accepted the call.
      const [target, field] = node.args;
      if (target.op === 'id' && target.args === 'args' && ctx.options.requiredArgs.has(field)) {
        return { code: property('a.args', field), type: staticType(node, ctx), safe: true };
      }
      return fallback(node, ctx);
    }
    case 'id': {
      const name = node.args;
      if (['agent', 'role', 'environment', 'tool'].includes(name)) return { code: property('a', name), type: 'string', safe: true };
      return fallback(node, ctx);
    }
    case '&&':
    case '||': {
      const [l, r] = node.args.map((n) => generate(n, ctx)) as [Generated, Generated];
      if (l.safe && r.safe && l.type === 'bool' && r.type === 'bool') {
        return { code: `(${l.code} ${node.op} ${r.code})`, type: 'bool', safe: true };
      }
      return fallback(node, ctx);
    }
    case '-_': {
      const operand = generate(node.args, ctx);
      if (operand.safe && NUMERIC.has(operand.type ?? '')) return { code: `(-${operand.code})`, type: operand.type, safe: true };
      return fallback(node, ctx);
    }
    case '!_': {
      const operand = generate(node.args, ctx);
      if (operand.safe && operand.type === 'bool') return { code: `(!${operand.code})`, type: 'bool', safe: true };
      return fallback(node, ctx);
    }
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const [l, r] = node.args.map((n) => generate(n, ctx)) as [Generated, Generated];
      const comparable = (NUMERIC.has(l.type ?? '') && NUMERIC.has(r.type ?? '')) || (l.type === 'string' && r.type === 'string');
      // Strings compare by UTF-16 code unit in JS; keep the closure compiler's exact path for them.
      if (l.safe && r.safe && comparable && l.type !== 'string') {
        return { code: `(${l.code} ${node.op} ${r.code})`, type: 'bool', safe: true };
      }
      return fallback(node, ctx);
    }
    case '==':
    case '!=': {
      const [l, r] = node.args.map((n) => generate(n, ctx)) as [Generated, Generated];
      const sameKind =
        PRIMITIVE.has(l.type ?? '') &&
        PRIMITIVE.has(r.type ?? '') &&
        (l.type === r.type || (NUMERIC.has(l.type ?? '') && NUMERIC.has(r.type ?? '')));
      if (l.safe && r.safe && sameKind) {
        return { code: `(${l.code} ${node.op === '==' ? '===' : '!=='} ${r.code})`, type: 'bool', safe: true };
      }
      return fallback(node, ctx);
    }
    case 'in': {
      const [needleNode, haystack] = node.args;
      const needle = generate(needleNode, ctx);
      const literals = haystack.op === 'list' && haystack.args.every((item) => item.op === 'value' && ['string', 'bigint', 'boolean'].includes(typeof item.args));
      if (needle.safe && PRIMITIVE.has(needle.type ?? '') && literals && haystack.op === 'list') {
        const values = new Set(haystack.args.map((item) => (typeof item.args === 'bigint' ? Number(item.args) : item.args)));
        return { code: `${constant(ctx, values)}.has(${needle.code})`, type: 'bool', safe: true };
      }
      return fallback(node, ctx);
    }
    case 'call': {
      const [name, argNodes] = node.args;
      const [only] = argNodes;
      if (name === 'size' && argNodes.length === 1 && only) {
        const operand = generate(only, ctx);
        if (operand.safe && operand.type?.startsWith('list')) return { code: `${operand.code}.length`, type: 'int', safe: true };
      }
      return fallback(node, ctx);
    }
    case 'rcall': {
      const [name, receiverNode, argNodes] = node.args;
      const receiver = generate(receiverNode, ctx);
      const [only] = argNodes;
      if (name === 'size' && argNodes.length === 0 && receiver.safe && receiver.type?.startsWith('list')) {
        return { code: `${receiver.code}.length`, type: 'int', safe: true };
      }
      if (['startsWith', 'endsWith', 'contains'].includes(name) && argNodes.length === 1 && only && receiver.safe && receiver.type === 'string') {
        const arg = generate(only, ctx);
        if (arg.safe && arg.type === 'string') {
          const method = name === 'contains' ? 'includes' : name;
          return { code: `${receiver.code}.${method}(${arg.code})`, type: 'bool', safe: true };
        }
      }
      return fallback(node, ctx);
    }
    default:
      return fallback(node, ctx);
  }
}
