import { z } from 'zod';
import { agentOf, userOf, viewerOf } from '../http/principal.js';
import { defineRoute } from '../http/route.js';
import type { Services } from '../services/services.js';
import { idParams, name, pageLimit, toolArgs } from './schemas.js';

const resolution = z.object({ reason: z.string().trim().min(1).max(2000) });

/** Long polls are capped so a proxy's idle timeout never cuts one. */
export const MAX_WAIT_SECONDS = 60;

export function approvalRoutes(services: Services) {
  const { approvals } = services;
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/approvals',
      tag: 'approvals',
      summary: 'List approvals, newest first.',
      query: z.object({
        status: z.enum(['pending', 'approved', 'denied', 'expired', 'redeemed']).optional(),
        agent: name.optional(),
        cursor: z.string().max(200).optional(),
        limit: pageLimit,
      }),
      handler: ({ query }) =>
        approvals.list({ ...(query.status ? { status: query.status } : {}), ...(query.agent ? { agent: query.agent } : {}) }, query.cursor, query.limit),
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/approvals/:id',
      tag: 'approvals',
      summary: 'One approval. Agents see only their own.',
      params: idParams,
      handler: ({ params, principal }) => approvals.get(params.id, viewerOf(principal)),
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/approvals/:id/wait',
      tag: 'approvals',
      summary: `Long-poll: answers as soon as the approval leaves pending, or after timeout seconds (at most ${MAX_WAIT_SECONDS}).`,
      params: idParams,
      query: z.object({ timeout: z.coerce.number().min(0).max(MAX_WAIT_SECONDS).default(30) }),
      handler({ params, query, principal, reply }) {
        const abort = new AbortController();
        reply.raw.on('close', () => abort.abort());
        return approvals.wait(params.id, viewerOf(principal), query.timeout * 1000, abort.signal);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/approvals/:id/approve',
      tag: 'approvals',
      summary: 'Approve a pending approval, with a reason.',
      params: idParams,
      body: resolution,
      handler: ({ params, body, principal }) => approvals.approve(params.id, userOf(principal).username, body.reason),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/approvals/:id/deny',
      tag: 'approvals',
      summary: 'Deny a pending approval, with a reason.',
      params: idParams,
      body: resolution,
      handler: ({ params, body, principal }) => approvals.deny(params.id, userOf(principal).username, body.reason),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/approvals/:id/redeem',
      tag: 'approvals',
      summary: 'Spend an approved approval on exactly the approved call, once, before it expires.',
      params: idParams,
      body: z.object({ tool: z.string().min(1).max(256), args: toolArgs.default({}) }),
      handler: ({ params, body, principal }) => approvals.redeem(params.id, agentOf(principal).agent, body),
    }),
  ];
}
