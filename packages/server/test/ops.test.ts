import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_ACCESS } from '../src/access.js';
import { openApiPath } from '../src/http/route.js';
import { caller } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';
import { tempDir } from './support/temp-dir.js';

describe('operations endpoints', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('serves liveness and readiness', async () => {
    const anonymous = caller(t.url);
    expect((await anonymous.get('/healthz')).body).toEqual({ status: 'ok' });
    expect((await anonymous.get('/readyz')).body).toEqual({ status: 'ready', policyVersion: 1 });
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

  it('describes the answer of every JSON route (clients read their types from it: @airlock/sdk/api)', async () => {
    type Operation = { responses: { '200': { content: Record<string, { schema: Record<string, unknown> }> } } };
    const { body } = await caller(t.url).get<{ paths: Record<string, Record<string, Operation>> }>('/openapi.json');
    const undescribed: string[] = [];
    for (const [path, operations] of Object.entries(body.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const json = operation.responses['200'].content['application/json'];
        if (json && Object.keys(json.schema).length === 0) undescribed.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(undescribed).toEqual([]);
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

describe('the dashboard site', () => {
  const site = tempDir('airlock-site-');
  const INDEX = '<!doctype html><html><head><script type="module" src="/assets/app-1a2b.js"></script></head><body><div id="root"></div></body></html>';
  let t: TestServer;
  let unbuilt: TestServer;
  beforeAll(async () => {
    mkdirSync(join(site.path, 'assets'));
    writeFileSync(join(site.path, 'index.html'), INDEX);
    writeFileSync(join(site.path, 'assets', 'app-1a2b.js'), 'console.log("app")');
    t = await startTestServer({ dashboardDir: site.path });
    unbuilt = await startTestServer({ dashboardDir: join(site.path, 'missing') });
  });
  afterAll(async () => {
    await t.dispose();
    await unbuilt.dispose();
    site.remove();
  });

  const page = (url: string, path: string) => fetch(`${url}${path}`, { headers: { accept: 'text/html,application/xhtml+xml' } });

  it.each(['/', '/approvals', '/approvals/apr_123', '/fleet/support-bot-1'])('serves index.html for %s, unframeable, with a strict CSP', async (path) => {
    const response = await page(t.url, path);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(await response.text()).toBe(INDEX);
  });

  it('serves hashed assets publicly with a long cache, and 404s for anything else', async () => {
    const asset = await fetch(`${t.url}/assets/app-1a2b.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(await asset.text()).toBe('console.log("app")');
    expect((await fetch(`${t.url}/assets/nope.js`)).status).toBe(404);
    expect((await fetch(`${t.url}/assets/..%2Findex.html`)).status).toBe(400);
  });

  it('keeps the API JSON: unknown API routes, non-HTML requests and files are 404 JSON', async () => {
    for (const [path, accept] of [['/v1/nope', 'text/html'], ['/approvals', 'application/json'], ['/favicon.ico', 'text/html']] as const) {
      const response = await fetch(`${t.url}${path}`, { headers: { accept } });
      expect(response.status, path).toBe(404);
      expect(await response.json(), path).toMatchObject({ error: { code: 'not_found' } });
    }
  });

  it('says how to build the dashboard when it is not built', async () => {
    const response = await page(unbuilt.url, '/');
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('npm run build');
  });
});
