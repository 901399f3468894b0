import type { ASTNode } from '@marcbachmann/cel-js';
import type { ToolDefinition } from '../policy/document.js';
import { always, binaryF, FALSE, notF, TRUE, UNKNOWN, type Formula } from './formula.js';
import { locate, resolveTerm, type Scalar, type Term, type ValueValidator } from './terms.js';

/**
 * Turns a type-checked CEL condition into a formula over atoms the analysis understands:
 * comparisons of a term with numeric literals (either side), equality and `in` over literal lists,
 * bare boolean arguments, `has()`, and the request's `role`, `environment` and `tool`, which are
 * constants within one slice of the analysis. Anything else (string functions, arithmetic,
 * comparisons between two arguments, macros, `agent`, `session`, `time`) becomes an unknown: the
 * condition may then be true, false or an error, and the analysis says so instead of guessing.
 */

export type CompareOp = '<' | '<=' | '>' | '>=';

export type Atom =
  | { kind: 'compare'; term: number; op: CompareOp; value: number }
  /** The term's value is one of these (numbers for numeric terms, strings or bools otherwise). */
  | { kind: 'member'; term: number; values: readonly (number | Scalar)[] }
  | { kind: 'present'; arg: string };

/** The environment value of a slice that stands for every environment the bundle does not name. */
export const OTHER_ENVIRONMENT = Symbol('any other environment');

export interface SliceConstants {
  role: string;
  environment: string | typeof OTHER_ENVIRONMENT;
  tool: string;
}

/** The atoms and terms of one tool in one slice, shared by all its rules and limits. */
export class AtomTable {
  readonly terms: Term[] = [];
  readonly atoms: Atom[] = [];
  /** Top-level optional arguments whose presence some atom depends on. */
  readonly optionalArgs = new Set<string>();
  private readonly termKeys = new Map<string, Term | undefined>();
  private readonly atomKeys = new Map<string, number>();

  constructor(
    private readonly definitions: readonly ToolDefinition[],
    private readonly validate: ValueValidator,
  ) {}

  term(path: readonly string[], measure: 'value' | 'size'): Term | undefined {
    const key = `${measure}:${JSON.stringify(path)}`;
    if (this.termKeys.has(key)) return this.termKeys.get(key);
    const term = resolveTerm(this.terms.length, this.definitions, path, measure, this.validate);
    if (term) this.terms.push(term);
    this.termKeys.set(key, term);
    return term;
  }

  atom(atom: Atom): Formula {
    const key = JSON.stringify(atom);
    let index = this.atomKeys.get(key);
    if (index === undefined) {
      index = this.atoms.length;
      this.atoms.push(atom);
      this.atomKeys.set(key, index);
      const arg = atom.kind === 'present' ? atom.arg : this.terms[atom.term]?.optionalArg;
      if (arg !== undefined) this.optionalArgs.add(arg);
    }
    return { kind: 'atom', atom: index };
  }

  /** Presence of a declared argument path: true when the schema guarantees it. */
  presence(path: readonly string[]): Formula | undefined {
    const located = this.definitions.map((definition) => locate(definition, path));
    if (located.length === 0 || located.some((l) => l === undefined)) return undefined;
    if (located.some((l) => l?.optionalArg === undefined)) return always;
    return this.atom({ kind: 'present', arg: path[0] as string });
  }
}

export interface Abstraction {
  formula: Formula;
  /** Sub-expressions that were not analysed, as written. */
  opaque: string[];
}

type Operand =
  | { kind: 'literal'; value: unknown }
  | { kind: 'context'; value: string | typeof OTHER_ENVIRONMENT }
  | { kind: 'term'; term: Term }
  | { kind: 'unknown' };

const FLIP: Record<CompareOp, CompareOp> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

export function abstractCondition(ast: ASTNode, source: string, table: AtomTable, constants: SliceConstants): Abstraction {
  const opaque: string[] = [];
  const unknown = (node: ASTNode): Formula => {
    opaque.push(source.slice(node.start, node.end));
    return { kind: 'const', value: UNKNOWN };
  };

  const operand = (node: ASTNode): Operand => {
    if (node.op === 'value') return { kind: 'literal', value: typeof node.args === 'bigint' ? Number(node.args) : node.args };
    if (node.op === '-_' && node.args.op === 'value' && (typeof node.args.args === 'number' || typeof node.args.args === 'bigint')) {
      return { kind: 'literal', value: -Number(node.args.args) };
    }
    if (node.op === 'id' && (node.args === 'role' || node.args === 'environment' || node.args === 'tool')) {
      return { kind: 'context', value: constants[node.args] };
    }
    const path = argsPath(node);
    if (path) {
      const term = table.term(path, 'value');
      return term ? { kind: 'term', term } : { kind: 'unknown' };
    }
    const sized = sizeOf(node);
    if (sized) {
      const term = table.term(sized, 'size');
      return term ? { kind: 'term', term } : { kind: 'unknown' };
    }
    return { kind: 'unknown' };
  };

  const equality = (node: ASTNode, l: Operand, r: Operand): Formula => {
    if (l.kind === 'literal' && r.kind !== 'literal') return equality(node, r, l);
    if (r.kind !== 'literal') return unknown(node);
    if (l.kind === 'literal' || l.kind === 'context') return { kind: 'const', value: l.value === r.value ? TRUE : FALSE };
    if (l.kind !== 'term') return unknown(node);
    return member(l.term, [r.value]);
  };

  const member = (term: Term, candidates: readonly unknown[]): Formula => {
    const type = term.kind === 'number' ? 'number' : term.type;
    const values = candidates.filter((v): v is number | Scalar => typeof v === type);
    // Equality across types is false in CEL (and in the engine's ===).
    if (values.length === 0) return { kind: 'const', value: FALSE };
    return table.atom({ kind: 'member', term: term.id, values: [...new Set(values)] });
  };

  const visit = (node: ASTNode): Formula => {
    switch (node.op) {
      case 'value':
        return typeof node.args === 'boolean' ? { kind: 'const', value: node.args ? TRUE : FALSE } : unknown(node);
      case '&&':
      case '||':
        return binaryF(node.op === '&&' ? 'and' : 'or', visit(node.args[0]), visit(node.args[1]));
      case '!_':
        return notF(visit(node.args));
      case '==':
      case '!=': {
        const eq = equality(node, operand(node.args[0]), operand(node.args[1]));
        return node.op === '==' ? eq : notF(eq);
      }
      case '<':
      case '<=':
      case '>':
      case '>=': {
        const l = operand(node.args[0]);
        const r = operand(node.args[1]);
        const number = (o: Operand): o is { kind: 'literal'; value: number } => o.kind === 'literal' && typeof o.value === 'number';
        if (l.kind === 'term' && l.term.kind === 'number' && number(r)) return table.atom({ kind: 'compare', term: l.term.id, op: node.op, value: r.value });
        if (r.kind === 'term' && r.term.kind === 'number' && number(l)) return table.atom({ kind: 'compare', term: r.term.id, op: FLIP[node.op], value: l.value });
        return unknown(node);
      }
      case 'in': {
        const [needle, haystack] = node.args;
        if (haystack.op !== 'list' || !haystack.args.every((item) => operand(item).kind === 'literal')) return unknown(node);
        const items = haystack.args.map((item) => (operand(item) as { value: unknown }).value);
        const o = operand(needle);
        if (o.kind === 'context' || o.kind === 'literal') return { kind: 'const', value: items.includes(o.value) ? TRUE : FALSE };
        if (o.kind === 'term') return member(o.term, items);
        return unknown(node);
      }
      case 'call': {
        const [name, args] = node.args;
        const [selection] = args;
        if (name === 'has' && args.length === 1 && selection) {
          const path = argsPath(selection);
          const presence = path && table.presence(path);
          if (presence) return presence;
        }
        return unknown(node);
      }
      default: {
        // A bare boolean argument: `args.urgent`.
        const o = operand(node);
        if (o.kind === 'term' && o.term.kind === 'discrete' && o.term.type === 'boolean') return member(o.term, [true]);
        return unknown(node);
      }
    }
  };

  return { formula: visit(ast), opaque };
}

/** `args.a.b` or `args["a"]` → ['a', 'b']; undefined for anything else. */
function argsPath(node: ASTNode): string[] | undefined {
  const path: string[] = [];
  let current = node;
  for (;;) {
    if (current.op === '.') {
      path.unshift(current.args[1]);
      current = current.args[0];
    } else if (current.op === '[]' && current.args[1].op === 'value' && typeof current.args[1].args === 'string') {
      path.unshift(current.args[1].args);
      current = current.args[0];
    } else {
      break;
    }
  }
  return current.op === 'id' && current.args === 'args' && path.length > 0 ? path : undefined;
}

/** `size(args.ids)` or `args.ids.size()` → ['ids']. */
function sizeOf(node: ASTNode): string[] | undefined {
  if (node.op === 'call' && node.args[0] === 'size' && node.args[1].length === 1) return argsPath(node.args[1][0] as ASTNode);
  if (node.op === 'rcall' && node.args[0] === 'size' && node.args[2].length === 0) return argsPath(node.args[1]);
  return undefined;
}
