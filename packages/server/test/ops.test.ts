import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_ACCESS } from '../src/access.js';
import { openApiPath } from '../src/http/route.js';
import { caller } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

describe('operations endpoints', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('serves liveness, readiness and the placeholder page', async () => {
    const anonymous = caller(t.url);
    expect((await anonymous.get('/healthz')).body).toEqual({ status: 'ok' });
    expect((await anonymous.get('/readyz')).body).toEqual({ status: 'ready', policyVersion: 1 });
    const page = await anonymous.get<string>('/');
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.body).toContain('<h1>Airlock</h1>');
  });

  it('exposes decisions, latency, pending approvals and limit hits in Prometheus format', async () => {
    const support = t.agent('support-bot-1');
    const refund = (amount: number) => ({ tool: 'issue_refund', args: { account_id: 'M-1', amount, currency: 'USD' } });
    await support.post('/v1/decide', refund(40));
    await support.post('/v1/decide', refund(40));
    await support.post('/v1/decide', refund(40));
    const { body } = await caller(t.url).get<string>('/metrics');
    expect(body).toContain('airlock_decisions_total{effect="allow",rule="refund-small",agent="support-bot-1"} 2');
    expect(body).toContain('airlock_decisions_total{effect="require_approval",rule="refund-budget",agent="support-bot-1"} 1');
    expect(body).toContain('airlock_decision_duration_seconds_count 3');
    expect(body).toMatch(/airlock_decision_duration_seconds_bucket\{le="\+Inf"\} 3/);
    expect(body).toContain('airlock_approvals_pending 1');
    expect(body).toContain('airlock_limit_hits_total{limit="refund-budget"} 1');
  });

  it('documents every route of the access table in /openapi.json, generated from the zod schemas', async () => {
    const { body } = await caller(t.url).get<{ openapi: string; paths: Record<string, Record<string, { requestBody?: unknown; 'x-airlock-access': unknown }>> }>('/openapi.json');
    expect(body.openapi).toBe('3.1.0');
    for (const [key, access] of Object.entries(ROUTE_ACCESS)) {
      const [method, url] = key.split(' ') as [string, string];
      expect(body.paths[openApiPath(url)]?.[method.toLowerCase()], key).toMatchObject({ 'x-airlock-access': access });
    }
    const decide = body.paths['/v1/decide']?.post as { requestBody: { content: { 'application/json': { schema: { required: string[] } } } } };
    expect(decide.requestBody.content['application/json'].schema.required).toEqual(['tool']);
  });

  it('registers exactly the routes of the access table', async () => {
    const anonymous = caller(t.url);
    for (const key of Object.keys(ROUTE_ACCESS)) {
      const [method, url] = key.split(' ') as [string, string];
      const path = url.replace(':version', '1').replace(':id', 'x');
      const reply = method === 'GET' ? await anonymous.get(path) : method === 'POST' ? await anonymous.post(path, {}) : await anonymous.delete(path);
      expect(reply.body, key).not.toMatchObject({ error: { code: 'not_found', message: expect.stringContaining('no route') } });
    }
  });
});
