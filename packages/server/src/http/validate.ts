import type { z } from 'zod';
import { AirlockError } from '../errors.js';

/** Parses untrusted input with its zod schema, or throws `invalid_request` naming the first bad field. */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, where: 'body' | 'query' | 'params' | 'headers'): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = [where, ...(issue?.path ?? []).map(String)].join('.');
  throw new AirlockError('invalid_request', `${param}: ${issue?.message ?? 'invalid'}`, { param });
}
