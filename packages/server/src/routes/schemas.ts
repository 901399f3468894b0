import { z } from 'zod';

/** Identifiers of agents, roles and environments: short, printable, safe in URLs and logs. */
export const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'letters, digits, . _ - (max 128), starting with a letter or digit');

export const toolArgs = z.record(z.string(), z.unknown()).superRefine((args, ctx) => {
  // JSON has no Infinity, but a literal past the double range (1e999) parses to it. The engine
  // refuses it as an argument; the audit record of the call could not hold it (canonical JSON has
  // no such number), so the request is refused here, before anything is decided, naming the field.
  const path = nonFinitePath(args, []);
  if (path) ctx.addIssue({ code: 'custom', message: 'number out of range: beyond ±1.8e308, it parses to Infinity', path });
});

/** The path of the first non-finite number in a parsed JSON value, if any. */
function nonFinitePath(value: unknown, path: (string | number)[]): (string | number)[] | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path;
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nonFinitePath(value[i], [...path, i]);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, member] of Object.entries(value)) {
    const found = nonFinitePath(member, [...path, key]);
    if (found) return found;
  }
  return undefined;
}

export const idParams = z.object({ id: z.string().min(1).max(128) });

/** `limit` query parameter of list routes. */
export const pageLimit = z.coerce.number().int().min(1).max(1000).default(100);
