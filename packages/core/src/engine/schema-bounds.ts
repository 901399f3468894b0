import type { JsonSchema } from '../policy/document.js';
import { MAX_ARGS_BYTES, MAX_ARGS_DEPTH } from './request.js';

/**
 * Whether every value a schema accepts is within the request size and depth bounds, judged with
 * the same accounting as the size walk in request.ts. When it is, a value that passed validation
 * needs no size walk: the validator has already bounded it. Strings count two units per code
 * point (ajv's maxLength counts code points; a surrogate pair is two UTF-16 units).
 */
export function schemaIsBounded(schema: JsonSchema): boolean {
  const bound = encodedBound(schema, 1);
  return bound !== undefined && bound <= MAX_ARGS_BYTES;
}

function encodedBound(schema: JsonSchema, depth: number): number | undefined {
  if (depth > MAX_ARGS_DEPTH) return undefined;
  if (Array.isArray(schema.enum) && schema.enum.every((v) => typeof v !== 'object' || v === null)) {
    return Math.max(8, ...schema.enum.map((v) => (typeof v === 'string' ? v.length + 2 : 8)));
  }
  switch (schema.type) {
    case 'number':
    case 'integer':
    case 'boolean':
    case 'null':
      return 8;
    case 'string':
      return typeof schema.maxLength === 'number' ? 2 * schema.maxLength + 2 : undefined;
    case 'array': {
      const items = schema.items;
      if (typeof schema.maxItems !== 'number' || !items || typeof items !== 'object' || Array.isArray(items)) return undefined;
      const item = encodedBound(items as JsonSchema, depth + 1);
      return item === undefined ? undefined : 2 + schema.maxItems * item;
    }
    case 'object': {
      const properties = schema.properties as Record<string, JsonSchema> | undefined;
      if (!properties || schema.additionalProperties !== false) return undefined;
      let total = 2;
      for (const [name, sub] of Object.entries(properties)) {
        const child = encodedBound(sub, depth + 1);
        if (child === undefined) return undefined;
        total += name.length + 3 + child;
      }
      return total;
    }
    default:
      return undefined;
  }
}
