import { defineRoute } from '../http/route.js';
import type { Services } from '../services/services.js';
import { AirlockError } from '../errors.js';

const PLACEHOLDER_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Airlock</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>Airlock</h1>
<p>The control plane is running. The dashboard will be served here.</p>
<p>API: <a href="/openapi.json">/openapi.json</a> · <a href="/healthz">/healthz</a> · <a href="/metrics">/metrics</a></p>
</body>
</html>
`;

export function opsRoutes(services: Services, openApi: () => unknown) {
  return [
    defineRoute({
      method: 'GET',
      url: '/',
      tag: 'ops',
      summary: 'The dashboard (a placeholder page for now).',
      produces: 'text/html',
      handler: ({ reply }) => reply.type('text/html; charset=utf-8').send(PLACEHOLDER_PAGE),
    }),
    defineRoute({
      method: 'GET',
      url: '/healthz',
      tag: 'ops',
      summary: 'Liveness: the process answers.',
      handler: () => ({ status: 'ok' }),
    }),
    defineRoute({
      method: 'GET',
      url: '/readyz',
      tag: 'ops',
      summary: 'Readiness: the store (and, with several instances, Redis) answers.',
      async handler() {
        try {
          await services.ready();
        } catch (error) {
          throw new AirlockError('store_unavailable', `not ready: ${error instanceof Error ? error.message : String(error)}`);
        }
        return { status: 'ready', policyVersion: services.policies.active()?.version ?? null };
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
        return reply.type('text/plain; version=0.0.4; charset=utf-8').send(services.metrics.render({ approvalsPending }));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/openapi.json',
      tag: 'ops',
      summary: 'This API as OpenAPI 3.1.',
      handler: () => openApi(),
    }),
  ];
}
