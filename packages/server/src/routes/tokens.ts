import { z } from 'zod';
import { userOf } from '../http/principal.js';
import { defineRoute } from '../http/route.js';
import * as V from '../http/views.js';
import { USER_ROLES } from '../services/auth.js';
import type { Services } from '../services/services.js';
import { idParams, name } from './schemas.js';

const DAY_MS = 24 * 60 * 60_000;

const createToken = z
  .object({
    /** What the token is for, shown in lists: "airlock CLI on laptop". */
    name: z.string().trim().min(1).max(128),
    /** A narrower role than the person's; default: the person's role. */
    role: z.enum(USER_ROLES).optional(),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
    expiresInDays: z.number().int().min(1).max(3650).optional(),
  })
  .refine((body) => body.expiresAt === undefined || body.expiresInDays === undefined, { message: 'give expiresAt or expiresInDays, not both' });

export function tokenRoutes(services: Services) {
  const { tokens, clock } = services;
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/tokens',
      response: z.object({ tokens: z.array(V.Token) }),
      tag: 'tokens',
      summary: "Your API tokens (never their secrets). An admin may pass `user` for one person's, or `all=true` for everyone's.",
      query: z.object({ user: name.optional(), all: z.enum(['true', 'false']).optional() }),
      handler: async ({ query, principal }) => ({ tokens: await tokens.list(userOf(principal), { username: query.user, all: query.all === 'true' }) }),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/tokens',
      response: V.CreatedToken,
      tag: 'tokens',
      summary:
        'Create an API token that acts as you (Authorization: Bearer apt_…, no CSRF header), with your role or a narrower `role`, optionally expiring. Needs a signed-in session. The `token` in the answer is shown this once.',
      body: createToken,
      async handler({ body, principal, reply }) {
        const expiresAt = body.expiresAt !== undefined ? Date.parse(body.expiresAt) : body.expiresInDays !== undefined ? clock.now() + body.expiresInDays * DAY_MS : undefined;
        const created = await tokens.create(userOf(principal), { name: body.name, role: body.role, expiresAt });
        reply.code(201);
        return created;
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/v1/tokens/:id',
      response: V.Token,
      tag: 'tokens',
      summary: 'Revoke one of your API tokens (an admin: anyone\'s); it stops working on the next request, on every instance.',
      params: idParams,
      handler: ({ params, principal }) => tokens.revoke(userOf(principal), params.id),
    }),
  ];
}
