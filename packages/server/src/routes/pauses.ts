import { parseDuration } from '@airlock/core';
import { z } from 'zod';
import { actorOf } from '../http/principal.js';
import { defineRoute } from '../http/route.js';
import * as V from '../http/views.js';
import type { Services } from '../services/services.js';
import { idParams } from './schemas.js';

const pauseBody = z
  .object({
    scope: z.enum(['fleet', 'agent', 'role', 'tool']),
    target: z.string().min(1).max(256).optional().describe('the agent, role or tool (not for the fleet)'),
    reason: z.string().min(1).max(2000),
    for: z
      .string()
      .refine((text) => parseDuration(text) !== undefined, { message: 'a duration such as 30m, 2h or 1d' })
      .optional()
      .describe('a timed pause: it ends by itself after this long (30m, 2h, 1d)'),
    until: z.iso.datetime({ offset: true }).optional().describe('a timed pause: it ends by itself at this time'),
  })
  .refine((body) => (body.scope === 'fleet') === (body.target === undefined), { message: 'name the agent, role or tool to pause (and nothing for the fleet)', path: ['target'] })
  .refine((body) => body.for === undefined || body.until === undefined, { message: 'give `for` or `until`, not both', path: ['until'] });


/** The kill switch (docs/kill-switch.md). */
export function pauseRoutes(services: Services) {
  const { pauses } = services;
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/pauses',
      response: z.object({ pauses: z.array(V.Pause) }),
      tag: 'pauses',
      summary: 'Pauses of the fleet, an agent, a role or a tool (manual or by quarantine), newest first; `active=true` for those in force.',
      query: z.object({ active: z.enum(['true', 'false']).optional() }),
      handler: async ({ query }) => ({ pauses: await pauses.list({ active: query.active === 'true' }) }),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/pauses',
      response: V.Pause,
      tag: 'pauses',
      summary: 'Pause the fleet, an agent, a role or a tool: every decision in scope is `block` with code `paused`, and approved calls in scope cannot be redeemed, until resumed, or, with `for` or `until`, until that time. Answers the active pause (an existing one for the same scope is returned as is).',
      body: pauseBody,
      async handler({ body, principal, reply }) {
        reply.code(201);
        return pauses.pause(actorOf(principal), {
          scope: body.scope,
          target: body.target,
          reason: body.reason,
          forMs: body.for === undefined ? undefined : parseDuration(body.for),
          endsAt: body.until === undefined ? undefined : Date.parse(body.until),
        });
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/pauses/:id/resume',
      response: V.Pause,
      tag: 'pauses',
      summary: 'Resume: end a pause (audited).',
      params: idParams,
      handler: ({ params, principal }) => pauses.resume(actorOf(principal), params.id),
    }),
  ];
}
