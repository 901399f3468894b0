/**
 * Plain words for the CEL errors policy authors meet most. cel-js reports `no such overload:
 * double > string`; an author wants to read that `args.amount` is a number compared with the
 * string "50", and that 50 is written without quotes. The checker's own text stays as `detail`.
 */

/** The parts of a cel-js AST node an error points at. */
interface ErrorNode {
  op?: string;
  pos?: number;
  start?: number;
  end?: number;
  args?: unknown;
  leftStaticType?: unknown;
  rightStaticType?: unknown;
  argTypes?: unknown[];
}

export interface CelProblem {
  /** The plain message, or the checker's text when there is no better wording. */
  message: string;
  /** The checker's own text when `message` rewords it. */
  detail?: string;
  /** Offset inside the expression the problem is about. */
  offset?: number;
}

export interface CelContext {
  /** The expression. */
  source: string;
  /** The tool it is checked against and its declared argument names. */
  tool: string;
  args: readonly string[];
}

/** The AST node a cel-js error carries, if any. */
export function errorNode(error: unknown): ErrorNode | undefined {
  const node = (error as { node?: unknown } | null | undefined)?.node;
  return node !== null && typeof node === 'object' ? (node as ErrorNode) : undefined;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

/** A syntax error: the checker's text at the offset it names. */
export function celSyntaxProblem(error: unknown): CelProblem {
  const text = firstLine(error);
  const offset = errorNode(error)?.pos;
  const message = /^Unexpected token: EOF/.test(text) ? 'the expression ends too early: something is missing at its end' : text;
  return { message, ...(message !== text ? { detail: text } : {}), ...(typeof offset === 'number' ? { offset } : {}) };
}

/** A type error, in plain words when it is a common one. */
export function celTypeProblem(error: unknown, context: CelContext): CelProblem {
  const text = firstLine(error);
  const node = errorNode(error);
  const offset = typeof node?.pos === 'number' ? node.pos : undefined;
  const plain = node ? reword(text, node, context) : undefined;
  if (!plain) return { message: text, ...(offset !== undefined ? { offset } : {}) };
  return { message: plain.message, detail: text, offset: plain.offset ?? offset };
}

const COMPARISONS = new Set(['==', '!=', '<', '<=', '>', '>=']);
const ARITHMETIC = new Set(['+', '-', '*', '/', '%']);

function reword(text: string, node: ErrorNode, context: CelContext): { message: string; offset?: number } | undefined {
  const { source } = context;
  const unknownVariable = /^Unknown variable: (\S+)/.exec(text);
  if (unknownVariable) {
    return { message: `'${unknownVariable[1]}' is not a variable here: use args.<field> (the call's arguments), agent, role, environment, tool, session or time` };
  }
  const noKey = /^No such key: (\S+)/.exec(text);
  if (noKey) {
    const declared = context.args.length > 0 ? `declares ${context.args.join(', ')}` : 'declares no arguments';
    return { message: `tool '${context.tool}' has no argument '${noKey[1]}': it ${declared}` };
  }
  const overload = /^no such overload: (.+) (==|!=|<=|>=|<|>|\+|-|\*|\/|%|in) (.+)$/.exec(text);
  const operands = Array.isArray(node.args) && node.args.length === 2 ? (node.args as ErrorNode[]) : undefined;
  if (overload && operands) {
    const [, leftType = '', op = '', rightType = ''] = overload;
    const [left, right] = operands as [ErrorNode, ErrorNode];
    const leftText = textOf(source, left);
    const rightText = textOf(source, right);
    if (COMPARISONS.has(op)) {
      for (const [aType, aText, b, bType] of [
        [leftType, leftText, right, rightType],
        [rightType, rightText, left, leftType],
      ] as const) {
        // A number compared with a quoted number: the quotes are the mistake.
        const quoted = numericString(b);
        if (isNumber(aType) && bType === 'string' && quoted !== undefined) {
          return { message: `${aText} is a number but is compared with a string ${textOf(source, b)}; write ${quoted} without quotes`, offset: b.start };
        }
      }
      return { message: `${leftText} is ${kind(leftType)} but is compared with ${rightText}, ${kind(rightType)}: '${op}' compares values of one kind`, offset: right.start };
    }
    if (ARITHMETIC.has(op)) {
      if (isNumber(leftType) && isNumber(rightType)) {
        const whole = leftType === 'double' ? right : left;
        return {
          message: `${leftText} is ${kind(leftType)} and ${rightText} is ${kind(rightType)}; CEL does not mix whole numbers and decimals: write ${textOf(source, whole)} as a decimal (e.g. 1.0) or wrap it in double(...)`,
          offset: whole.start,
        };
      }
      return { message: `'${op}' cannot combine ${leftText}, ${kind(leftType)}, with ${rightText}, ${kind(rightType)}`, offset: right.start };
    }
    if (op === 'in') return { message: `'in' looks for a value in a list or a map, but ${rightText} is ${kind(rightType)}`, offset: right.start };
  }
  const call = /^found no matching overload for '(?:([^.()]+)\.)?([A-Za-z_][\w]*)\(([^)]*)\)'/.exec(text);
  if (call) {
    const [, receiver, name = '', argList = ''] = call;
    const args = argList.split(',').map((t) => t.trim()).filter((t) => t !== '');
    if (receiver !== undefined) return { message: `${name}() cannot be called on ${kind(receiver)}${args.length ? ` with ${args.map(kind).join(', ')}` : ''}` };
    return { message: `${name}() does not take ${args.length ? args.map(kind).join(', ') : 'no arguments'}` };
  }
  const unary = /^no such overload: (!|-)(\S+)$/.exec(text);
  if (unary) return { message: `'${unary[1]}' cannot apply to ${kind(unary[2] ?? '')}${unary[1] === '!' ? ': it negates true/false' : ''}` };
  return undefined;
}

function textOf(source: string, node: ErrorNode): string {
  return typeof node.start === 'number' && typeof node.end === 'number' ? source.slice(node.start, node.end).trim() : 'a value';
}

function numericString(node: ErrorNode): string | undefined {
  if (node.op !== 'value' || typeof node.args !== 'string') return undefined;
  const text = node.args.trim();
  return /^-?\d+(\.\d+)?$/.test(text) ? text : undefined;
}

function isNumber(type: string): boolean {
  return type === 'int' || type === 'uint' || type === 'double';
}

/** A CEL type in words. */
function kind(type: string): string {
  if (type === 'double') return 'a number';
  if (type === 'int' || type === 'uint') return 'a whole number';
  if (type === 'string') return 'a string';
  if (type === 'bool') return 'true/false';
  if (type === 'null') return 'null';
  if (type.startsWith('list')) return 'a list';
  if (type.startsWith('map')) return 'a map';
  if (type === 'dyn') return 'any value';
  return `a ${type}`;
}
