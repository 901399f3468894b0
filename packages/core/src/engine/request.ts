import { z } from 'zod';
import type { DecisionError } from '../errors.js';
import type { DecisionRequest } from './types.js';

export const MAX_ARGS_BYTES = 1024 * 1024;
export const MAX_ARGS_DEPTH = 32;
export const DEFAULT_ENVIRONMENT = 'production';

const name = z.string().min(1).max(256);

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
  for (const field of ['agent', 'role', 'tool'] as const) {
    if (typeof request[field] !== 'string') {
      return { code: 'invalid_request', message: `${field} must be a string`, path: field };
    }
  }
  if (request.environment !== undefined && typeof request.environment !== 'string') {
    return { code: 'invalid_request', message: 'environment must be a string', path: 'environment' };
  }
  const args = request.args;
  if (args !== undefined && (args === null || typeof args !== 'object' || Array.isArray(args))) {
    return { code: 'invalid_arguments', message: 'args must be an object', path: 'args' };
  }
  return undefined;
}

/**
 * Walks the arguments once, bounding depth and approximate encoded size, stopping early.
 * Returns the error for arguments over 1 MiB or nested deeper than 32 levels.
 */
export function checkArgsSize(args: unknown): DecisionError | undefined {
  let budget = MAX_ARGS_BYTES;
  const walk = (value: unknown, depth: number): boolean => {
    if (depth > MAX_ARGS_DEPTH) return false;
    if (typeof value === 'string') {
      budget -= value.length + 2;
    } else if (value !== null && typeof value === 'object') {
      budget -= 2;
      if (Array.isArray(value)) {
        for (const item of value) if (!walk(item, depth + 1) || budget < 0) return false;
      } else {
        for (const key in value) {
          if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
          budget -= key.length + 3;
          if (!walk((value as Record<string, unknown>)[key], depth + 1) || budget < 0) return false;
        }
      }
    } else {
      budget -= 8;
    }
    return budget >= 0;
  };
  if (walk(args, 1)) return undefined;
  return {
    code: 'request_too_large',
    message: `arguments exceed ${MAX_ARGS_BYTES} bytes or ${MAX_ARGS_DEPTH} levels of nesting`,
    path: 'args',
  };
}

/** Resolves the request clock to epoch milliseconds; NaN when `at` is unusable. */
export function requestTime(at: DecisionRequest['at'], now: () => number): number {
  if (at === undefined) return now();
  if (typeof at === 'number') return Number.isFinite(at) ? at : Number.NaN;
  return Date.parse(at);
}
