import { z } from 'zod';

/** Identifiers of agents, roles and environments: short, printable, safe in URLs and logs. */
export const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'letters, digits, . _ - (max 128), starting with a letter or digit');

/** A SHA-256 digest as the server writes them: 64 lowercase hex digits (call hashes, result digests). */
export const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

export const toolArgs = z.record(z.string(), z.unknown()).superRefine((args, ctx) => {
  // JSON has no Infinity, but a literal past the double range (1e999) parses to it. The engine
  // refuses it as an argument; the audit record of the call could not hold it (canonical JSON has
  // no such number), so the request is refused here, before anything is decided, naming the field.
  const path = nonFinitePath(args);
  if (path) ctx.addIssue({ code: 'custom', message: 'number out of range: beyond ±1.8e308, it parses to Infinity', path });
});

/**
 * The path of the first non-finite number in a parsed JSON value, if any. An explicit stack, not
 * recursion: the body's depth is bounded before parsing, but a walk over request data never
 * trusts that (a recursive one overflowed the stack on 100,000 levels).
 */
function nonFinitePath(root: unknown): (string | number)[] | undefined {
  // Values still to look at, next last; each with its step (key and parent step) for the path.
  const pending: { value: unknown; step: Step | undefined }[] = [{ value: root, step: undefined }];
  while (pending.length > 0) {
    const { value, step } = pending.pop() as { value: unknown; step: Step | undefined };
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return pathOf(step);
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) pending.push({ value: value[i], step: { key: i, parent: step } });
    } else if (typeof value === 'object' && value !== null) {
      const keys = Object.keys(value);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i] as string;
        pending.push({ value: (value as Record<string, unknown>)[key], step: { key, parent: step } });
      }
    }
  }
  return undefined;
}

/** Whether every number in a parsed JSON value is finite: nonFinitePath's question, without building paths. */
export function allFinite(root: unknown): boolean {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return false;
    } else if (typeof value === 'object' && value !== null) {
      if (Array.isArray(value)) for (const item of value) pending.push(item);
      else for (const key in value) if (Object.hasOwn(value, key)) pending.push((value as Record<string, unknown>)[key]);
    }
  }
  return true;
}

interface Step {
  key: string | number;
  parent: Step | undefined;
}

function pathOf(step: Step | undefined): (string | number)[] {
  const path: (string | number)[] = [];
  for (let s = step; s !== undefined; s = s.parent) path.unshift(s.key);
  return path;
}

export const idParams = z.object({ id: z.string().min(1).max(128) });

/** `limit` query parameter of list routes. */
export const pageLimit = z.coerce.number().int().min(1).max(1000).default(100);
