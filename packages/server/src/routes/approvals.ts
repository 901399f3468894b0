import { sessionAttributesSchema } from '@airlock/core';
import { z } from 'zod';
import { agentOf, approverOf, viewerOf } from '../http/principal.js';
import { defineRoute } from '../http/route.js';
import * as V from '../http/views.js';
import type { Services } from '../services/services.js';
import { idParams, name, pageLimit, sha256Hex, toolArgs } from './schemas.js';
import { argFilterParam } from '../audit/arg-index.js';
import type { ApprovalFilter } from '../store/store.js';

const RESOLVED = ['approved', 'denied', 'expired', 'redeemed'] as const;

const reason = z.string().trim().min(1).max(2000);
const resolution = z.object({ reason });
const approval = z.object({
  reason,
  /** Edit and approve: run the call with these arguments instead. */
  args: toolArgs.optional(),
  callHash: sha256Hex
    .optional()
    .describe('the `callHash` of the approval as the approver was shown it: refused with call_changed if another edit replaced the call since'),
});

const DAY_MS = 24 * 60 * 60_000;
const isoTime = z.iso.datetime({ offset: true });

/** Long polls are capped so a proxy's idle timeout never cuts one. */
export const MAX_WAIT_SECONDS = 60;

export function approvalRoutes(services: Services) {
  const { approvals, notifications, clock } = services;
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/approvals/stats',
      heavy: true,
      response: V.ApprovalStats,
      tag: 'approvals',
      summary: 'Per rule: approvals granted, denied, edited, timed out, escalated, and time to decision (default: the last 30 days).',
      query: z.object({ from: isoTime.optional(), to: isoTime.optional(), rule: z.string().min(1).max(128).optional() }),
      handler: ({ query }) => {
        const toMs = query.to === undefined ? clock.now() + 1 : Date.parse(query.to);
        const fromMs = query.from === undefined ? toMs - 30 * DAY_MS : Date.parse(query.from);
        return approvals.stats({ fromMs, toMs, ...(query.rule === undefined ? {} : { rule: query.rule }) });
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/approvals',
      response: z.object({ approvals: z.array(V.ApprovalView), nextCursor: z.string().nullable() }),
      tag: 'approvals',
      summary: 'List approvals (newest first unless sorted otherwise), filtered, with cursor pagination.',
      query: z.object({
        status: z.enum(['pending', 'approved', 'denied', 'expired', 'redeemed', 'resolved']).optional().describe('resolved: approved, denied, expired or redeemed'),
        agent: name.optional(),
        tool: z.string().min(1).max(256).optional(),
        rule: z.string().min(1).max(256).optional(),
        from: isoTime.optional().describe('created at or after'),
        to: isoTime.optional().describe('created before'),
        arg: argFilterParam.optional(),
        sort: z.enum(['newest', 'oldest', 'deadline']).default('newest').describe('deadline: the soonest tier deadline (else expiry) first'),
        cursor: z.string().max(400).optional(),
        limit: pageLimit,
      }),
      handler: ({ query }) => {
        const filter: ApprovalFilter = { sort: query.sort };
        if (query.status !== undefined) filter.status = query.status === 'resolved' ? RESOLVED : query.status;
        if (query.agent !== undefined) filter.agent = query.agent;
        if (query.tool !== undefined) filter.tool = query.tool;
        if (query.rule !== undefined) filter.rule = query.rule;
        if (query.from !== undefined) filter.fromMs = Date.parse(query.from);
        if (query.to !== undefined) filter.toMs = Date.parse(query.to);
        if (query.arg !== undefined && query.arg.length > 0) filter.args = query.arg;
        return approvals.list(filter, query.cursor, query.limit);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/approvals/:id',
      response: V.ApprovalView,
      tag: 'approvals',
      summary: 'One approval. Agents see only their own.',
      params: idParams,
      handler: ({ params, principal }) => approvals.get(params.id, viewerOf(principal)),
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/approvals/:id/wait',
      response: V.ApprovalView,
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
      response: V.ApprovalView,
      tag: 'approvals',
      summary:
        'Approve a pending approval, with a reason; with `args`, approve the call edited to these arguments (re-checked against the active policy). Counts as one of the approvals the current tier needs.',
      params: idParams,
      body: approval,
      handler: ({ params, body, principal }) => approvals.approve(params.id, approverOf(principal), { reason: body.reason, args: body.args, callHash: body.callHash }),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/approvals/:id/deny',
      response: V.ApprovalView,
      tag: 'approvals',
      summary: 'Deny a pending approval, with a reason.',
      params: idParams,
      body: resolution,
      handler: ({ params, body, principal }) => approvals.deny(params.id, approverOf(principal), { reason: body.reason }),
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/approvals/:id/deliveries',
      response: z.object({ deliveries: z.array(V.Delivery) }),
      tag: 'approvals',
      summary: 'The notification delivery log of an approval, newest attempt first.',
      params: idParams,
      query: z.object({ limit: pageLimit }),
      handler: async ({ params, query }) => ({ deliveries: await notifications.deliveries({ approvalId: params.id }, query.limit) }),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/approvals/:id/redeem',
      response: V.ApprovalView,
      tag: 'approvals',
      summary: 'Spend an approved approval, once, before it expires: send the call as requested (or as edited); the answer\'s `args` are the arguments to run.',
      params: idParams,
      body: z.object({ tool: z.string().min(1).max(256), args: toolArgs.default({}), sessionAttributes: sessionAttributesSchema.optional() }),
      handler: ({ params, body, principal }) => approvals.redeem(params.id, agentOf(principal).agent, body),
    }),
  ];
}
