import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { DecisionError } from '../errors.js';
import type { JsonSchema, ToolDefinition } from '../policy/document.js';
import { compileFastAccept } from './fast-accept.js';
import { checkArgsSize } from './request.js';
import { checkSchemaPatterns, createPatternEngine, type RegExpEngine } from './schema-pattern.js';
import { schemaIsBounded } from './schema-bounds.js';

// ajv and ajv-formats are CommonJS; under NodeNext their default import is the module object.
const Ajv = AjvModule as unknown as typeof AjvModule.default;
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/**
 * Validates a call's arguments, including the request size and depth bounds: `request_too_large`
 * for arguments over 1 MiB or deeper than 32 levels, `invalid_arguments` for a schema violation.
 */
export interface ArgsValidator {
  (args: Record<string, unknown>): DecisionError | undefined;
  /**
   * A predicate that is true only for arguments this validator accepts (same bounds, same plain
   * object rule), allocating nothing; false says nothing: ask the validator. Absent when the
   * schema is outside the fast predicate's subset.
   */
  readonly quickAccept?: (args: Record<string, unknown>) => boolean;
}

/**
 * An ajv instance configured as argument validation uses it (also by the static analysis, for
 * single values). Patterns run on RE2 (schema-pattern.ts): linear time, whatever the pattern.
 */
export function createAjv(patterns: RegExpEngine = createPatternEngine()): InstanceType<typeof Ajv> {
  const ajv = new Ajv({
    code: { regExp: patterns },
    strict: true,
    strictTypes: false,
    strictTuples: false,
    strictNumbers: true,
    allErrors: false,
    coerceTypes: false,
    useDefaults: false,
  });
  addFormats(ajv);
  return ajv;
}

/** One ajv instance per bundle: schemas compile once, when the bundle loads. */
export function createSchemaCompiler(): (tool: ToolDefinition) => ArgsValidator {
  const patterns = createPatternEngine();
  const ajv = createAjv(patterns);
  return (tool) => {
    const schema = toolArgsSchema(tool);
    // Every pattern compiles now, even where ajv's compile waits: one RE2 cannot run is a load error.
    checkSchemaPatterns(tool.args, patterns);
    // ajv is the authority; the fast predicate may only short-cut an acceptance. A schema the
    // predicate covers uses only keywords it has checked, so ajv's compile (a quarter of load
    // time) can wait for the first call it has to judge or explain.
    const fast = compileFastAccept(schema, patterns);
    let compiled = fast ? undefined : ajv.compile(schema);
    const validate = (args: unknown): boolean => (compiled ??= ajv.compile(schema))(args);
    const explain = (): DecisionError => describeFailure((compiled ??= ajv.compile(schema)));
    const accepts = fast?.accepts;
    const bounded = schemaIsBounded(schema);
    // Plain objects only: a custom prototype could present inherited values to the validator that
    // the tool would see but the audit would not. A closed schema's fast path proves its required
    // values own; every other path checks the prototype.
    const earlyAccept = fast?.ownRequired ? accepts : undefined;
    const lateAccept = fast?.ownRequired ? undefined : accepts;
    const validator = (args: Record<string, unknown>): DecisionError | undefined => {
      // An accepted value is within the size and depth bounds only when the schema bounds them: a
      // closed schema may still hold an open map (`fields: { type: object }`) of any depth.
      if (earlyAccept?.(args)) return bounded ? undefined : checkArgsSize(args);
      if (!isPlainObject(args)) return { code: 'invalid_arguments', message: 'args must be a plain JSON object', path: 'args' };
      // A schema that bounds every accepted value needs the size walk only to explain a failure.
      const sizeError = bounded ? undefined : checkArgsSize(args);
      if (sizeError) return sizeError;
      if (lateAccept?.(args) || validate(args)) return undefined;
      return (bounded ? checkArgsSize(args) : undefined) ?? explain();
    };
    // The same judgement as `validator` where it accepts, as a bare predicate (the generated
    // decision functions call it; anything it declines goes through `validator` for the error).
    let quickAccept: ((args: Record<string, unknown>) => boolean) | undefined;
    if (earlyAccept) quickAccept = bounded ? earlyAccept : (args) => earlyAccept(args) && checkArgsSize(args) === undefined;
    else if (lateAccept) {
      quickAccept = bounded
        ? (args) => isPlainObject(args) && lateAccept(args)
        : (args) => isPlainObject(args) && checkArgsSize(args) === undefined && lateAccept(args);
    }
    return Object.assign(validator, quickAccept ? { quickAccept } : {}) as ArgsValidator;
  };
}

/**
 * The argument object's schema: declared arguments, all required unless listed otherwise, closed
 * unless `additionalArgs: true`. Nested objects that list `properties` are closed and fully
 * required by default too; an object schema without `properties` is an open map on purpose.
 */
export function toolArgsSchema(tool: ToolDefinition): JsonSchema {
  return closeObject({
    type: 'object',
    properties: tool.args,
    required: tool.required ?? Object.keys(tool.args),
    additionalProperties: tool.additionalArgs,
  });
}

function closeObject(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = { ...schema };
  const properties = schema.properties;
  if (properties && typeof properties === 'object' && !Array.isArray(properties)) {
    out.properties = Object.fromEntries(
      Object.entries(properties as Record<string, JsonSchema>).map(([name, sub]) => [name, closeObject(sub)]),
    );
    if (out.additionalProperties === undefined) out.additionalProperties = false;
    if (out.required === undefined) out.required = Object.keys(properties);
  }
  const items = schema.items;
  if (items && typeof items === 'object' && !Array.isArray(items)) out.items = closeObject(items as JsonSchema);
  return out;
}

function isPlainObject(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function describeFailure(validate: ValidateFunction): DecisionError {
  const error = validate.errors?.[0];
  if (!error) return { code: 'invalid_arguments', message: 'arguments do not match the tool schema', path: 'args' };
  const path = argumentPath(error);
  return { code: 'invalid_arguments', message: `${path} ${error.message ?? 'is invalid'}`, path };
}

function argumentPath(error: ErrorObject): string {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required' && typeof params.missingProperty === 'string') segments.push(params.missingProperty);
  if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    segments.push(params.additionalProperty);
  }
  return ['args', ...segments].map((s, i) => (i > 0 && /^\d+$/.test(s) ? `[${s}]` : i > 0 ? `.${s}` : s)).join('');
}
