import { z } from 'zod';
import type { DecisionError } from '../errors.js';
import type { DecisionRequest } from './types.js';

export const MAX_ARGS_BYTES = 1024 * 1024;
export const MAX_ARGS_DEPTH = 32;
export const DEFAULT_ENVIRONMENT = 'production';

const name = z.string().min(1).max(256);

export const MAX_SESSION_ATTRIBUTES = 32;
export const MAX_INTENT_LENGTH = 2000;

/** Session attributes: a few named scalars (`id` is the session id's own name). */
export const sessionAttributesSchema = z
  .record(
    z.string().regex(/^[a-z_][a-z0-9_]{0,63}$/, 'attribute names are lower_snake_case, at most 64 characters').refine((key) => key !== 'id', '`id` is the session id: send it as `session`'),
    z.union([z.string().max(256), z.number().finite(), z.boolean()]),
  )
  .refine((attributes) => Object.keys(attributes).length <= MAX_SESSION_ATTRIBUTES, `at most ${MAX_SESSION_ATTRIBUTES} attributes`);

/**
 * The decision request as it arrives over a boundary (CLI line, HTTP body). `args` stays `unknown`
 * inside: the tool's own schema judges it, so a wrong argument is `invalid_arguments`, not
 * `invalid_request`.
 */
export const decisionRequestSchema = z.object({
  agent: name,
  role: name,
  environment: name.optional(),
  tool: z.string().max(256),
  args: z.record(z.string(), z.unknown()).optional(),
  session: z.string().max(256).optional(),
  sessionAttributes: sessionAttributesSchema.optional(),
  intent: z.string().max(MAX_INTENT_LENGTH).optional(),
  at: z.union([z.iso.datetime({ offset: true }), z.number().int().nonnegative()]).optional(),
});

/** Parses an untrusted value into a request, or the `invalid_request` error explaining why not. */
export function parseDecisionRequest(value: unknown): { request: DecisionRequest } | { error: DecisionError } {
  const parsed = decisionRequestSchema.safeParse(value);
  if (parsed.success) return { request: parsed.data as DecisionRequest };
  const issue = parsed.error.issues[0];
  const path = issue ? issue.path.map(String).join('.') : '';
  return {
    error: {
      code: 'invalid_request',
      message: issue ? `${path || 'request'}: ${issue.message}` : 'invalid request',
      ...(path ? { path } : {}),
    },
  };
}

/** Cheap structural check of a request on the hot path (typed callers can still pass anything at run time). */
export function checkRequestShape(request: DecisionRequest): DecisionError | undefined {
  if (request === null || typeof request !== 'object') return { code: 'invalid_request', message: 'request must be an object' };
  if (typeof request.agent !== 'string') return { code: 'invalid_request', message: 'agent must be a string', path: 'agent' };
  if (typeof request.role !== 'string') return { code: 'invalid_request', message: 'role must be a string', path: 'role' };
  if (typeof request.tool !== 'string') return { code: 'invalid_request', message: 'tool must be a string', path: 'tool' };
  if (request.environment !== undefined && typeof request.environment !== 'string') {
    return { code: 'invalid_request', message: 'environment must be a string', path: 'environment' };
  }
  const args = request.args;
  // Whether it is a plain object (no custom prototype) is the argument validator's to check.
  if (args !== undefined && (args === null || typeof args !== 'object' || Array.isArray(args))) {
    return { code: 'invalid_arguments', message: 'args must be a plain JSON object', path: 'args' };
  }
  return undefined;
}

/**
 * True when `checkRequestShape` finds nothing to report, in fewer bytecodes (so the engine's hot
 * path inlines it); false means "ask checkRequestShape", which explains.
 */
export function isWellFormed(request: DecisionRequest): boolean {
  if (request === null || typeof request !== 'object') return false;
  if (typeof request.agent !== 'string' || typeof request.role !== 'string' || typeof request.tool !== 'string') return false;
  const environment = request.environment;
  if (environment !== undefined && typeof environment !== 'string') return false;
  const args = request.args;
  return args === undefined || (args !== null && typeof args === 'object' && !Array.isArray(args));
}

/**
 * Spends an approximate encoded-size budget on a value; returns what is left, or -1 as soon as
 * the budget is exhausted or the value nests deeper than allowed. Allocates nothing.
 */
function remainingBudget(value: unknown, depth: number, budget: number): number {
  if (depth > MAX_ARGS_DEPTH) return -1;
  if (typeof value === 'string') return budget - value.length - 2;
  if (value === null || typeof value !== 'object') return budget - 8;
  let left = budget - 2;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length && left >= 0; i++) left = remainingBudget(value[i], depth + 1, left);
    return left;
  }
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    left = remainingBudget((value as Record<string, unknown>)[key], depth + 1, left - key.length - 3);
    if (left < 0) return -1;
  }
  return left;
}

/** The error for arguments over 1 MiB or nested deeper than 32 levels; undefined when within bounds. */
export function checkArgsSize(args: unknown): DecisionError | undefined {
  if (remainingBudget(args, 1, MAX_ARGS_BYTES) >= 0) return undefined;
  return {
    code: 'request_too_large',
    message: `arguments exceed ${MAX_ARGS_BYTES} bytes or ${MAX_ARGS_DEPTH} levels of nesting`,
    path: 'args',
  };
}

/** The request's own time in epoch milliseconds: undefined when it has none, NaN when `at` is unusable. */
export function requestTime(at: DecisionRequest['at']): number | undefined {
  if (at === undefined) return undefined;
  if (typeof at === 'number') return Number.isFinite(at) ? at : Number.NaN;
  return typeof at === 'string' ? Date.parse(at) : Number.NaN;
}
