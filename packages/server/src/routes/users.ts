import { z } from 'zod';
import { actorOf } from '../http/principal.js';
import { defineRoute } from '../http/route.js';
import * as V from '../http/views.js';
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
      response: z.object({ users: z.array(V.User) }),
      tag: 'users',
      summary: 'List people, their roles and approver groups, and whether they are disabled.',
      handler: async () => ({ users: await auth.listUsers() }),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/users',
      response: V.User,
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
      response: V.User,
      tag: 'users',
      summary: 'Replace a person\'s approver groups: the approval tiers they may act on (audited).',
      params: z.object({ username: name }),
      body: z.object({ groups }),
      handler: ({ params, body, principal }) => auth.setGroups(actorOf(principal), params.username, body.groups),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/users/:username/role',
      tag: 'users',
      summary: "Change a person's role (audited: `user.role_changed`); it holds from their next request, for their tokens too. The last admin keeps the role (`last_admin`).",
      params: z.object({ username: name }),
      body: z.object({ role: z.enum(USER_ROLES) }),
      response: V.User,
      handler: ({ params, body, principal }) => auth.setRole(actorOf(principal), params.username, body.role),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/users/:username/disable',
      tag: 'users',
      summary:
        'Disable a person (audited: `user.disabled`): their sessions end at once, sign-in and their API tokens are refused until enabled. Not yourself, not the last admin (`last_admin`).',
      params: z.object({ username: name }),
      response: V.User,
      handler: ({ params, principal }) => auth.disable(actorOf(principal), params.username),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/users/:username/enable',
      tag: 'users',
      summary: 'Enable a disabled person again (audited: `user.enabled`).',
      params: z.object({ username: name }),
      response: V.User,
      handler: ({ params, principal }) => auth.enable(actorOf(principal), params.username),
    }),
  ];
}
