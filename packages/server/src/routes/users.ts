import { z } from 'zod';
import { actorOf } from '../http/principal.js';
import { defineRoute } from '../http/route.js';
import { USER_KINDS, USER_ROLES } from '../services/auth.js';
import type { Services } from '../services/services.js';
import { name } from './schemas.js';

/** Approver groups, as policies name them. */
const groups = z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'letters, digits, . _ : - (max 128)')).max(100);

export function userRoutes(services: Services) {
  const { auth } = services;
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/users',
      tag: 'users',
      summary: 'List people, their roles and approver groups.',
      handler: async () => ({ users: await auth.listUsers() }),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/users',
      tag: 'users',
      summary: 'Create a person (or a bot: a service account whose approval decisions are counted apart) with a role and, optionally, approver groups.',
      body: z.object({
        username: name,
        password: z.string().min(12).max(1024),
        role: z.enum(USER_ROLES),
        groups: groups.optional(),
        kind: z.enum(USER_KINDS).optional(),
      }),
      async handler({ body, principal, reply }) {
        reply.code(201);
        return auth.createUser(actorOf(principal), body);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/users/:username/groups',
      tag: 'users',
      summary: 'Replace a person\'s approver groups: the approval tiers they may act on (audited).',
      params: z.object({ username: name }),
      body: z.object({ groups }),
      handler: ({ params, body, principal }) => auth.setGroups(actorOf(principal), params.username, body.groups),
    }),
  ];
}
