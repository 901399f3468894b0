import { z } from 'zod';
import { actorOf } from '../http/principal.js';
import { defineRoute } from '../http/route.js';
import * as V from '../http/views.js';
import { USER_ROLES } from '../services/auth.js';
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
      response: z.object({ users: z.array(V.User) }),
      tag: 'users',
      summary: 'List people, their roles and approver groups.',
      handler: async () => ({ users: await auth.listUsers() }),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/users',
      response: V.User,
      tag: 'users',
      summary: 'Create a person with a role and, optionally, approver groups.',
      body: z.object({ username: name, password: z.string().min(12).max(1024), role: z.enum(USER_ROLES), groups: groups.optional() }),
      async handler({ body, principal, reply }) {
        reply.code(201);
        return auth.createUser(actorOf(principal), body);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/users/:username/groups',
      response: V.User,
      tag: 'users',
      summary: 'Replace a person\'s approver groups: the approval tiers they may act on (audited).',
      params: z.object({ username: name }),
      body: z.object({ groups }),
      handler: ({ params, body, principal }) => auth.setGroups(actorOf(principal), params.username, body.groups),
    }),
  ];
}
