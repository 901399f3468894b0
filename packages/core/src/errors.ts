/**
 * Errors are values with stable, documented codes (see docs/errors.md).
 * Load errors locate the problem (file, line, path); decision errors travel inside a block decision.
 */

/** Codes a policy bundle can fail to load with. */
export type LoadErrorCode =
  | 'io_error'
  | 'yaml_syntax'
  | 'invalid_policy'
  | 'invalid_args_schema'
  | 'duplicate_policy'
  | 'duplicate_id'
  | 'unknown_tool_reference'
  | 'cel_syntax'
  | 'cel_type'
  | 'cel_unsupported'
  | 'cel_cost_exceeded'
  | 'invalid_duration'
  | 'empty_bundle';

/** Codes a decision can carry when the call is blocked for a reason other than a rule. */
export const DECISION_ERROR_CODES = [
  'invalid_request',
  'unknown_tool',
  'no_policy',
  'invalid_arguments',
  'request_too_large',
  'condition_error',
  'engine_error',
  'store_unavailable',
  'paused',
  'evaluation_limit',
] as const;
export type DecisionErrorCode = (typeof DECISION_ERROR_CODES)[number];

export interface LoadError {
  code: LoadErrorCode;
  message: string;
  /** Bundle-relative file name. */
  file: string;
  /** 1-based line, when known. */
  line?: number;
  /** 1-based column on `line`, when known (the character a CEL error is about, for expressions). */
  column?: number;
  /** Path inside the document, e.g. `rules[2].when`. */
  path?: string;
  /** The parser's or type checker's own text, when `message` rewords it in plain language. */
  detail?: string;
}

export interface DecisionError {
  code: DecisionErrorCode;
  message: string;
  /** Path inside the request, e.g. `args.amount`. */
  path?: string;
}

/** Thrown by loaders only, never by `decide`: carries every problem found, not just the first. */
export class PolicyLoadError extends Error {
  readonly errors: readonly LoadError[];
  constructor(errors: readonly LoadError[]) {
    super(errors.map(formatLoadError).join('\n'));
    this.name = 'PolicyLoadError';
    this.errors = errors;
  }
  static isInstance(value: unknown): value is PolicyLoadError {
    return value instanceof Error && value.name === 'PolicyLoadError' && Array.isArray((value as PolicyLoadError).errors);
  }
}

/** Any error located in a file: policy load errors, test suite errors. */
export interface LocatedError {
  code: string;
  message: string;
  file: string;
  line?: number;
  path?: string;
}

/** `file:line (path): code: message`, the one format for every located error. */
export function formatLoadError(error: LocatedError): string {
  const where = error.line === undefined ? error.file : `${error.file}:${error.line}`;
  const path = error.path ? ` (${error.path})` : '';
  return `${where}${path}: ${error.code}: ${error.message}`;
}
