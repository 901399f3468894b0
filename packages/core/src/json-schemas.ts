import { z } from 'zod';
import { policyDocumentSchema } from './policy/document.js';
import { policySuiteSchema } from './testing/suite-schema.js';

/**
 * JSON Schemas of the two YAML formats people write, generated from the zod schemas the loaders
 * use, so editors (the YAML language server's `# yaml-language-server: $schema=…` line) complete
 * and check the same keys the loader accepts. Checked in as docs/schemas/*.json and written into
 * every `airlock init` scaffold; a test fails when the checked-in files drift from these.
 *
 * The zod refinements (CEL syntax, time zones, "either this key or that one") have no JSON Schema
 * form and are left out: the JSON Schema is looser than the loader, never stricter, so an editor
 * never flags a file the loader accepts. Draft-07, the draft editors' YAML support implements.
 */

export const JSON_SCHEMA_FILES = {
  'policy.schema.json': policyDocumentSchema,
  'policy-test.schema.json': policySuiteSchema,
} as const;

export type JsonSchemaFile = keyof typeof JSON_SCHEMA_FILES;

/** The JSON Schema of one format, as an object. */
export function jsonSchema(file: JsonSchemaFile): Record<string, unknown> {
  // `input`: what a person writes, so keys with a default are optional.
  return z.toJSONSchema(JSON_SCHEMA_FILES[file], { io: 'input', target: 'draft-7' }) as Record<string, unknown>;
}

/** Every schema file's name and text, exactly as checked in (two-space JSON, final newline). */
export function jsonSchemaFiles(): { file: JsonSchemaFile; text: string }[] {
  return (Object.keys(JSON_SCHEMA_FILES) as JsonSchemaFile[]).map((file) => ({ file, text: `${JSON.stringify(jsonSchema(file), null, 2)}\n` }));
}
