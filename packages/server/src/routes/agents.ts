import { z } from 'zod';
import { actorOf } from '../http/principal.js';
import { defineRoute } from '../http/route.js';
import * as V from '../http/views.js';
import type { Services } from '../services/services.js';
import { idParams, name } from './schemas.js';

export function agentRoutes(services: Services) {
  const { agents } = services;
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/agents',
      response: z.object({ agents: z.array(V.AgentListed) }),
      tag: 'agents',
      summary: 'List agents with how many keys they have and when they last asked for a decision.',
      handler: async () => ({ agents: await agents.list() }),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/agents',
      response: V.Agent,
      tag: 'agents',
      summary: 'Register an agent with its role and environment (bound to every key it gets).',
      body: z.object({ id: name, role: name, environment: name.default('production') }),
      async handler({ body, principal, reply }) {
        reply.code(201);
        return agents.create(actorOf(principal), body);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/agents/:id/keys',
      response: z.object({ keys: z.array(V.ApiKey) }),
      tag: 'agents',
      summary: "List an agent's API keys (ids only; secrets are never stored).",
      params: idParams,
      handler: async ({ params }) => ({ keys: await agents.listKeys(params.id) }),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/agents/:id/keys',
      response: V.IssuedApiKey,
      tag: 'agents',
      summary: 'Issue an API key. The `key` in the answer is shown this once.',
      params: idParams,
      async handler({ params, principal, reply }) {
        reply.code(201);
        return agents.issueKey(actorOf(principal), params.id);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/keys/:id/rotate',
      tag: 'agents',
      summary:
        'Rotate an API key: revoke it and issue its successor for the same agent in one audited step (`key.rotated`). The old key is refused from the next request; the new `key` is shown this once. A key already revoked or rotated: `key_revoked` (409).',
      params: idParams,
      response: V.RotatedApiKey,
      async handler({ params, principal, reply }) {
        reply.code(201);
        return agents.rotateKey(actorOf(principal), params.id);
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/v1/keys/:id',
      response: V.ApiKey,
      tag: 'agents',
      summary: 'Revoke an API key; it stops working at once.',
      params: idParams,
      handler: ({ params, principal }) => agents.revokeKey(actorOf(principal), params.id),
    }),
  ];
}
