import { z } from 'zod';

/** Identifiers of agents, roles and environments: short, printable, safe in URLs and logs. */
export const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'letters, digits, . _ - (max 128), starting with a letter or digit');

export const toolArgs = z.record(z.string(), z.unknown());

export const idParams = z.object({ id: z.string().min(1).max(128) });

/** `limit` query parameter of list routes. */
export const pageLimit = z.coerce.number().int().min(1).max(1000).default(100);
