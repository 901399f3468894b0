import { z } from 'zod';
import { defineRoute } from '../http/route.js';
import type { Services } from '../services/services.js';
import { AirlockError } from '../errors.js';
import { sendDashboardAsset, sendDashboardPage, type DashboardSite } from '../http/dashboard.js';

export function opsRoutes(services: Services, openApi: () => unknown, dashboard: DashboardSite) {
  return [
    defineRoute({
      method: 'GET',
      url: '/',
      tag: 'ops',
      summary: 'The dashboard (single-page app; its client-side routes are served the same page).',
      produces: 'text/html',
      handler: ({ reply }) => sendDashboardPage(reply, dashboard),
    }),
    defineRoute({
      method: 'GET',
      url: '/assets/*',
      tag: 'ops',
      summary: "The dashboard's scripts and styles (content-hashed names, cached for a year).",
      produces: '*/*',
      params: z.object({ '*': z.string().regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/, 'an asset file name') }),
      handler: ({ params, reply }) => sendDashboardAsset(reply, dashboard, params['*']),
    }),
    defineRoute({
      method: 'GET',
      url: '/healthz',
      response: z.object({ status: z.literal('ok') }),
      tag: 'ops',
      summary: 'Liveness: the process answers.',
      handler: () => ({ status: 'ok' as const }),
    }),
    defineRoute({
      method: 'GET',
      url: '/readyz',
      response: z.object({ status: z.literal('ready'), policyVersion: z.number().nullable() }),
      tag: 'ops',
      summary: 'Readiness: the store (and, with several instances, Redis) answers.',
      async handler() {
        try {
          await services.ready();
        } catch (error) {
          throw new AirlockError('store_unavailable', `not ready: ${error instanceof Error ? error.message : String(error)}`);
        }
        return { status: 'ready' as const, policyVersion: services.policies.active()?.version ?? null };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/metrics',
      tag: 'ops',
      summary: 'Prometheus metrics.',
      produces: 'text/plain',
      async handler({ reply }) {
        const approvalsPending = await services.store.countPendingApprovals(services.clock.now());
        const orphans = await services.outcomes.orphanGauges();
        return reply.type('text/plain; version=0.0.4; charset=utf-8').send(services.metrics.render({ approvalsPending, orphans }));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/openapi.json',
      response: z.record(z.string(), z.unknown()),
      tag: 'ops',
      summary: 'This API as OpenAPI 3.1.',
      handler: () => openApi() as Record<string, unknown>,
    }),
  ];
}
