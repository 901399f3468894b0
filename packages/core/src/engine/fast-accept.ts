import type { JsonSchema } from '../policy/document.js';
import { createPatternEngine, type RegExpEngine } from './schema-pattern.js';

/**
 * Generates a predicate that accepts exactly the values ajv accepts for a common JSON Schema
 * subset, as straight-line JavaScript (ajv's own generated code carries error bookkeeping that
 * costs ~40 ns per call on the decision hot path). The predicate only ever says "valid"; any
 * value it rejects goes to ajv, which decides again and explains why. So the predicate must never
 * accept what ajv rejects; a differential property test holds it to ajv on random values.
 *
 * Supported: `type` (one of string, number, integer, boolean, null, array, object), primitive
 * `enum` and `const`, `minimum` / `maximum` / `exclusiveMinimum` / `exclusiveMaximum`,
 * `minLength` / `maxLength`, `pattern`, `minItems` / `maxItems`, `items` (one schema),
 * `properties` / `required` / `additionalProperties: false`, and annotations. Anything else
 * (formats, combinators, `$ref`, …) returns undefined: ajv alone validates that tool.
 */

const ANNOTATIONS = new Set(['description', 'title', 'default', 'examples', '$comment', 'deprecated', 'readOnly', 'writeOnly']);
const SUPPORTED = new Set([
  'type',
  'enum',
  'const',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'items',
  'properties',
  'required',
  'additionalProperties',
  ...ANNOTATIONS,
]);

class Unsupported extends Error {}

interface Emitter {
  constants: unknown[];
  counter: number;
  patterns: RegExpEngine;
}

/**
 * `accepts` says true only for values ajv accepts. `ownRequired` is true when the schema is a
 * closed object: then an accepted value's required properties are proven own, not inherited.
 */
export interface FastAccept {
  accepts: (value: unknown) => boolean;
  ownRequired: boolean;
}

/** `patterns` is the engine ajv uses for the same schemas (RE2), so both judge a pattern alike. */
export function compileFastAccept(schema: JsonSchema, patterns: RegExpEngine = createPatternEngine()): FastAccept | undefined {
  const emitter: Emitter = { constants: [], counter: 0, patterns };
  let body: string;
  try {
    body = emit(schema, 'v', emitter);
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
  const factory = new Function('k', `'use strict'; return function accepts(v) { ${body} return true; };`) as (k: unknown[]) => (value: unknown) => boolean;
  return { accepts: factory(emitter.constants), ownRequired: schema.type === 'object' && schema.additionalProperties === false };
}

function isPrimitive(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

function literal(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Unsupported();
  return JSON.stringify(value);
}

function local(emitter: Emitter): string {
  return `x${emitter.counter++}`;
}

/** Statements that `return false` unless `ref` satisfies `schema`. */
function emit(schema: JsonSchema, ref: string, emitter: Emitter): string {
  for (const key of Object.keys(schema)) if (!SUPPORTED.has(key)) throw new Unsupported();
  const out: string[] = [];
  const type = schema.type;
  if (typeof type !== 'string') throw new Unsupported();

  switch (type) {
    case 'string':
      out.push(`if (typeof ${ref} !== 'string') return false;`);
      break;
    case 'number':
      // ajv with strictNumbers: finite numbers only.
      out.push(`if (typeof ${ref} !== 'number' || !Number.isFinite(${ref})) return false;`);
      break;
    case 'integer':
      out.push(`if (typeof ${ref} !== 'number' || !Number.isInteger(${ref})) return false;`);
      break;
    case 'boolean':
      out.push(`if (typeof ${ref} !== 'boolean') return false;`);
      break;
    case 'null':
      out.push(`if (${ref} !== null) return false;`);
      break;
    case 'array':
      out.push(`if (!Array.isArray(${ref})) return false;`);
      break;
    case 'object':
      out.push(`if (${ref} === null || typeof ${ref} !== 'object' || Array.isArray(${ref})) return false;`);
      break;
    default:
      throw new Unsupported();
  }

  if (schema.enum !== undefined) {
    if (!Array.isArray(schema.enum) || !schema.enum.every(isPrimitive)) throw new Unsupported();
    out.push(`if (!(${schema.enum.map((v) => `${ref} === ${literal(v)}`).join(' || ') || 'false'})) return false;`);
  }
  if (schema.const !== undefined) {
    if (!isPrimitive(schema.const)) throw new Unsupported();
    out.push(`if (${ref} !== ${literal(schema.const)}) return false;`);
  }

  if (type === 'number' || type === 'integer') {
    const bounds: [string, string][] = [
      ['minimum', '<'],
      ['maximum', '>'],
      ['exclusiveMinimum', '<='],
      ['exclusiveMaximum', '>='],
    ];
    for (const [keyword, failing] of bounds) {
      const bound = schema[keyword];
      if (bound === undefined) continue;
      if (typeof bound !== 'number') throw new Unsupported();
      out.push(`if (${ref} ${failing} ${literal(bound)}) return false;`);
    }
  }

  if (type === 'string') {
    // ajv counts code points; `.length` counts UTF-16 units, at most twice as many. Decide by
    // `.length` where that settles it and count code points only in between.
    const count = `k[${emitter.constants.push(codePoints) - 1}]`;
    if (schema.minLength !== undefined) {
      if (typeof schema.minLength !== 'number') throw new Unsupported();
      out.push(`if (${ref}.length < ${schema.minLength} || (${ref}.length < ${2 * schema.minLength} && ${count}(${ref}) < ${schema.minLength})) return false;`);
    }
    if (schema.maxLength !== undefined) {
      if (typeof schema.maxLength !== 'number') throw new Unsupported();
      out.push(`if (${ref}.length > ${schema.maxLength} && ${count}(${ref}) > ${schema.maxLength}) return false;`);
    }
    if (schema.pattern !== undefined) {
      if (typeof schema.pattern !== 'string') throw new Unsupported();
      const pattern = emitter.patterns(schema.pattern, 'u');
      out.push(`if (!k[${emitter.constants.push(pattern) - 1}].test(${ref})) return false;`);
    }
  }

  if (type === 'array') {
    if (schema.minItems !== undefined) {
      if (typeof schema.minItems !== 'number') throw new Unsupported();
      out.push(`if (${ref}.length < ${schema.minItems}) return false;`);
    }
    if (schema.maxItems !== undefined) {
      if (typeof schema.maxItems !== 'number') throw new Unsupported();
      out.push(`if (${ref}.length > ${schema.maxItems}) return false;`);
    }
    if (schema.items !== undefined) {
      const items = schema.items;
      if (items === null || typeof items !== 'object' || Array.isArray(items)) throw new Unsupported();
      const i = local(emitter);
      const item = local(emitter);
      out.push(`for (let ${i} = 0; ${i} < ${ref}.length; ${i}++) { const ${item} = ${ref}[${i}]; ${emit(items as JsonSchema, item, emitter)} }`);
    }
  }

  if (type === 'object') {
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
    if (typeof properties !== 'object' || Array.isArray(properties)) throw new Unsupported();
    const required = schema.required ?? [];
    if (!Array.isArray(required) || !required.every((name) => typeof name === 'string')) throw new Unsupported();
    const additional = schema.additionalProperties;
    if (additional !== undefined && additional !== false && additional !== true) throw new Unsupported();
    // Presence as ajv tests it: `value.name !== undefined`.
    for (const name of required) out.push(`if (${ref}[${literal(name)}] === undefined) return false;`);
    if (additional === false) {
      // Closed object: every own key must be declared, and counting the required names among the
      // own keys proves each required value is the object's own, never inherited.
      const key = local(emitter);
      const count = local(emitter);
      const isRequired = required.map((name) => `${key} === ${literal(name)}`).join(' || ') || 'false';
      const optional = Object.keys(properties).filter((name) => !required.includes(name));
      const isOptional = optional.map((name) => `${key} === ${literal(name)}`).join(' || ') || 'false';
      // `for…in` allocates nothing; any inherited enumerable key makes this path decline.
      out.push(
        `let ${count} = 0; for (const ${key} in ${ref}) { if (!Object.prototype.hasOwnProperty.call(${ref}, ${key})) return false; if (${isRequired}) ${count}++; else if (!(${isOptional})) return false; } if (${count} !== ${new Set(required).size}) return false;`,
      );
    }
    for (const [name, sub] of Object.entries(properties)) {
      const value = local(emitter);
      out.push(`{ const ${value} = ${ref}[${literal(name)}]; if (${value} !== undefined) { ${emit(sub, value, emitter)} } }`);
    }
  }
  return out.join(' ');
}

function codePoints(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    count++;
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
  }
  return count;
}
