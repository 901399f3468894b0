import { RE2JS } from 're2js';
import type { JsonSchema } from '../policy/document.js';

/**
 * JSON Schema `pattern` (and `patternProperties` keys) in tool argument schemas, run by RE2: no
 * backtracking, so a run takes time linear in the subject whatever the pattern, and a careless
 * `^(a+)+$` cannot hold the event loop on an agent's argument. ajv and the fast path both use
 * this engine, so they agree.
 *
 * JSON Schema patterns are ECMA-262 regular expressions (ajv compiles them with the `u` flag). The
 * pattern is rewritten where RE2 spells or means the same thing differently, so a pattern keeps
 * its ECMA meaning: `\uXXXX` and `\u{…}` escapes, `.` (not a line terminator: \n, \r, U+2028,
 * U+2029), `\s` / `\S` (ECMA's Unicode white space, not RE2's ASCII one), `[]` and `[^]`, and a
 * `[` inside a class (literal in ECMA, a POSIX class opener in RE2). What RE2 cannot run
 * (backreferences, lookahead, lookbehind) throws a {@link SchemaPatternError} at load.
 */
/** ajv's `code.regExp` contract (ajv does not export its types for it). */
export interface RegExpLike {
  test: (subject: string) => boolean;
  /** ajv keys its compiled patterns by this. */
  toString: () => string;
}
export interface RegExpEngine {
  (pattern: string, flags: string): RegExpLike;
  code: string;
}

export class SchemaPatternError extends Error {
  /** Where the pattern is, from the tool's `args` (e.g. `['path', 'pattern']`), when known. */
  path: (string | number)[] | undefined;
  constructor(message: string, path?: (string | number)[]) {
    super(message);
    this.path = path;
  }
}

/** ECMA-262 `\s`: WhiteSpace and LineTerminator code points, as [from, to] ranges. */
const SPACE: [number, number][] = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];
const MAX_CODE_POINT = 0x10ffff;
/** The largest RE2 program a schema pattern may compile to (`^[0-9a-f]{64}$` is 68). */
export const MAX_PATTERN_INSTRUCTIONS = 1000;

function hex(code: number): string {
  return `\\x{${code.toString(16)}}`;
}

function rangeText(ranges: [number, number][]): string {
  return ranges.map(([from, to]) => (from === to ? hex(from) : `${hex(from)}-${hex(to)}`)).join('');
}

function complement(ranges: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  let next = 0;
  for (const [from, to] of ranges) {
    if (from > next) out.push([next, from - 1]);
    next = to + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

const SPACE_RANGES = rangeText(SPACE);
const NON_SPACE_RANGES = rangeText(complement(SPACE));
const LINE_TERMINATORS = rangeText([
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
]);
const ANY = `[${hex(0)}-${hex(MAX_CODE_POINT)}]`;
const NOTHING = `[^${hex(0)}-${hex(MAX_CODE_POINT)}]`;

/** Reads a `\u` escape at `i` (the backslash); returns its code point and the index after it. */
function unicodeEscape(source: string, i: number): [number, number] {
  const braced = /^\{([0-9a-fA-F]{1,6})\}/.exec(source.slice(i + 2));
  if (braced) {
    const code = Number.parseInt(braced[1] as string, 16);
    if (code > MAX_CODE_POINT) throw new SchemaPatternError(`invalid escape \\u{${braced[1]}}`);
    return [code, i + 2 + braced[0].length];
  }
  const four = /^[0-9a-fA-F]{4}/.exec(source.slice(i + 2));
  if (!four) throw new SchemaPatternError('invalid \\u escape (expected \\uXXXX or \\u{X…})');
  const code = Number.parseInt(four[0], 16);
  const end = i + 6;
  // With the `u` flag an escaped surrogate pair is one code point.
  if (code >= 0xd800 && code <= 0xdbff) {
    const low = /^\\u(d[c-f][0-9a-f]{2})/i.exec(source.slice(end));
    if (low) return [0x10000 + ((code - 0xd800) << 10) + (Number.parseInt(low[1] as string, 16) - 0xdc00), end + 6];
  }
  return [code, end];
}

/** Rewrites an ECMA-262 (`u` flag) pattern into RE2 syntax with the same meaning. */
export function toRe2Syntax(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; ) {
    const c = source[i] as string;
    if (c === '\\') {
      const next = source[i + 1];
      if (next === 'u') {
        const [code, end] = unicodeEscape(source, i);
        out += hex(code);
        i = end;
        continue;
      }
      if (next === 's') out += inClass ? SPACE_RANGES : `[${SPACE_RANGES}]`;
      else if (next === 'S') out += inClass ? NON_SPACE_RANGES : `[${NON_SPACE_RANGES}]`;
      else out += next === undefined ? c : c + next;
      i += 2;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c === '[' ? '\\[' : c;
      i += 1;
      continue;
    }
    if (c === '[') {
      // ECMA `[]` matches nothing and `[^]` anything; RE2 would read that `]` as a literal.
      if (source.startsWith('[]', i)) {
        out += NOTHING;
        i += 2;
        continue;
      }
      if (source.startsWith('[^]', i)) {
        out += ANY;
        i += 3;
        continue;
      }
      inClass = true;
      const negated = source[i + 1] === '^';
      out += negated ? '[^' : '[';
      i += negated ? 2 : 1;
      continue;
    }
    out += c === '.' ? `[^${LINE_TERMINATORS}]` : c;
    i += 1;
  }
  return out;
}

/** Compiles one schema pattern; throws {@link SchemaPatternError} with RE2's reason. */
export function compileSchemaPattern(source: string): RegExpLike {
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(toRe2Syntax(source));
  } catch (error) {
    const reason = (error as Error).message.replace(/^error parsing regexp: /, '');
    throw new SchemaPatternError(`pattern ${JSON.stringify(source)} is not supported (RE2 syntax, no backreferences or lookaround): ${reason}`);
  }
  // Linear time is subject length × program size; a large counted repetition (`.{5000}`) makes a
  // big program. Capped so any pattern runs over a 1 MiB argument in a few hundred ms at worst.
  const size = compiled.programSize();
  if (size > MAX_PATTERN_INSTRUCTIONS) {
    throw new SchemaPatternError(
      `pattern ${JSON.stringify(source)} compiles to ${size} RE2 instructions, over the limit of ${MAX_PATTERN_INSTRUCTIONS} (shrink its counted repetitions, e.g. {1,5000}, and bound the length with maxLength instead)`,
    );
  }
  return { test: (subject: string) => compiled.test(subject), toString: () => `/${source}/re2` };
}

/**
 * A pattern engine for ajv's `code.regExp` option and the fast path: each distinct pattern
 * compiles once per engine (one engine per policy bundle).
 */
export function createPatternEngine(): RegExpEngine {
  const cache = new Map<string, RegExpLike>();
  const compile = (pattern: string): RegExpLike => {
    let compiled = cache.get(pattern);
    if (!compiled) {
      compiled = compileSchemaPattern(pattern);
      cache.set(pattern, compiled);
    }
    return compiled;
  };
  // `code` is only read when ajv generates standalone code, which Airlock never does.
  const engine: RegExpEngine = Object.assign(compile, { code: 'airlockSchemaPattern' });
  return engine;
}

/** Keywords whose value is a subschema, a list of subschemas, or a map of name → subschema. */
const SUBSCHEMA = ['items', 'additionalItems', 'additionalProperties', 'propertyNames', 'contains', 'not', 'if', 'then', 'else', 'unevaluatedItems', 'unevaluatedProperties'];
const SUBSCHEMA_LISTS = ['items', 'prefixItems', 'allOf', 'anyOf', 'oneOf'];
const SUBSCHEMA_MAPS = ['properties', 'patternProperties', 'dependentSchemas', '$defs', 'definitions'];

function isSchema(value: unknown): value is JsonSchema {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Compiles every `pattern` and `patternProperties` key in a tool's argument schemas, so one RE2
 * cannot run is a load error that names where it is (ajv's own compile may wait for a first call).
 */
export function checkSchemaPatterns(args: Record<string, JsonSchema>, patterns: RegExpEngine): void {
  const visit = (schema: unknown, path: (string | number)[]): void => {
    if (!isSchema(schema)) return;
    const compile = (source: string, where: (string | number)[]): void => {
      try {
        patterns(source, 'u');
      } catch (error) {
        throw new SchemaPatternError((error as Error).message, where);
      }
    };
    if (typeof schema.pattern === 'string') compile(schema.pattern, [...path, 'pattern']);
    if (isSchema(schema.patternProperties)) {
      for (const key of Object.keys(schema.patternProperties)) compile(key, [...path, 'patternProperties', key]);
    }
    for (const keyword of SUBSCHEMA) if (isSchema(schema[keyword])) visit(schema[keyword], [...path, keyword]);
    for (const keyword of SUBSCHEMA_LISTS) {
      const list = schema[keyword];
      if (Array.isArray(list)) list.forEach((sub, i) => visit(sub, [...path, keyword, i]));
    }
    for (const keyword of SUBSCHEMA_MAPS) {
      const map = schema[keyword];
      if (isSchema(map)) for (const [name, sub] of Object.entries(map)) visit(sub, [...path, keyword, name]);
    }
  };
  for (const [name, schema] of Object.entries(args)) visit(schema, [name]);
}
