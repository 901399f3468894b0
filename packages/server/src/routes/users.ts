import { z } from 'zod';
import { actorOf } from '../http/principal.js';
import { defineRoute } from '../http/route.js';
import { USER_ROLES } from '../services/auth.js';
import type { Services } from '../services/services.js';
import { name } from './schemas.js';

export function userRoutes(services: Services) {
  const { auth } = services;
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/users',
      tag: 'users',
      summary: 'List people and their roles.',
      handler: async () => ({ users: await auth.listUsers() }),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/users',
      tag: 'users',
      summary: 'Create a person with a role.',
      body: z.object({ username: name, password: z.string().min(12).max(1024), role: z.enum(USER_ROLES) }),
      async handler({ body, principal, reply }) {
        reply.code(201);
        return auth.createUser(actorOf(principal), body);
      },
    }),
  ];
}
