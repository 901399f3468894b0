import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { readPolicySources } from '@airlock/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { createServices, type Services } from '../src/services/services.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { PreparedEntry } from '../src/audit/record.js';
import type { Store } from '../src/store/store.js';
import { DEFAULT_CONFIG } from '../src/config.js';
import { agent } from './support/http.js';
import { ManualClock } from './support/manual-clock.js';
import { tempDir } from './support/temp-dir.js';

describe('when the audit store fails', () => {
  const dir = tempDir();
  let failing = false;
  let services: Services;
  let app: FastifyInstance;
  let url: string;
  let key: string;

  beforeAll(async () => {
    const sqlite = await openSqliteStore(join(dir.path, 'airlock.db'));
    const store: Store = Object.create(sqlite) as Store;
    store.commit = (entries: readonly PreparedEntry[]) => (failing ? Promise.reject(new Error('disk I/O error')) : sqlite.commit(entries));
    services = await createServices(store, { ...DEFAULT_CONFIG, clock: new ManualClock() });
    const uploaded = await services.policies.upload('system', 'examples', readPolicySources(fileURLToPath(new URL('../../../examples/policies', import.meta.url))));
    await services.policies.activate('system', uploaded.version);
    await services.agents.create('system', { id: 'support-bot-1', role: 'support', environment: 'production' });
    key = (await services.agents.issueKey('system', 'support-bot-1')).key;
    app = await buildApp(services, { secureCookies: false, sessionTtlMs: 60_000, heartbeatMs: 60_000, version: 'test', logError: () => undefined, dashboardDir: DEFAULT_CONFIG.dashboardDir });
    url = `http://127.0.0.1:${(await app.listen({ host: '127.0.0.1', port: 0 })).split(':').pop() ?? ''}`;
  });
  afterAll(async () => {
    await app.close();
    await services.close();
    dir.remove();
  });

  it('answers every waiting decide with 503 and a store_unavailable block, then recovers with a valid chain', async () => {
    const support = agent(url, key);
    const refund = (i: number) => ({ tool: 'issue_refund', args: { account_id: `F-${i}`, amount: 10, currency: 'USD' } });
    failing = true;
    const during = await Promise.all([1, 2, 3].map((i) => support.post('/v1/decide', refund(i))));
    for (const reply of during) {
      expect(reply.status).toBe(503);
      expect(reply.body).toMatchObject({ effect: 'block', rule: null, decidedBy: 'error', error: { code: 'store_unavailable' } });
    }
    expect((await support.post('/v1/decide', { tool: 'get_account', args: { account_id: 'A' } })).status).toBe(503);
    failing = false;
    expect((await support.post('/v1/decide', refund(4))).body).toMatchObject({ effect: 'allow' });
    const verified = await services.audit.verify();
    expect(verified.ok).toBe(true);
    const decisions = await services.audit.query({ type: 'decision' }, undefined, 100);
    expect(decisions.records.map((r) => (r.data as { request: { args: { account_id?: string } } }).request.args.account_id)).toEqual(['F-4']);
  });
});
