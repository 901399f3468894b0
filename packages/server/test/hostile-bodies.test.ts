import { MAX_JSON_DEPTH } from '@airlock/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_ACCESS } from '../src/access.js';
import { caller, type Caller, type Reply } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

const arrays = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels);
const objects = (levels: number): string => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
const DEEP = 100_000;

interface ErrorBody {
  error: { code: string; message: string; param?: string };
}

/**
 * Hostile request bodies: nested 100,000 levels (a recursive check overflowed the stack: 500
 * internal_error, a stack trace in the log) or naming a key twice (decided on one value, run with
 * the other by a tool whose parser keeps the first). Every route that reads a body, every field.
 */
describe('hostile JSON bodies', () => {
  let t: TestServer;
  const logged: string[] = [];
  let callers: { agent: Caller; admin: Caller; anonymous: Caller };

  beforeAll(async () => {
    t = await startTestServer({ logError: (message) => logged.push(message) });
    callers = { agent: t.agent('support-bot-1'), admin: await t.admin(), anonymous: caller(t.url) };
  });
  afterAll(async () => {
    expect(logged).toEqual([]);
    await t.dispose();
  });

  /** Every route with a body, from the access table, with a caller it admits. */
  const bodyRoutes = Object.entries(ROUTE_ACCESS)
    .filter(([key]) => !key.startsWith('GET '))
    .map(([key, access]) => {
      const [method, url] = key.split(' ') as [string, string];
      const who = access === 'public' ? 'anonymous' : access.includes('agent') ? 'agent' : 'admin';
      return { key, method, path: url.replace(/:version/g, '1').replace(/:[a-z]+/gi, 'x'), who: who as 'agent' | 'admin' | 'anonymous' };
    })
    .filter((route) => route.method === 'POST');

  const send = (route: (typeof bodyRoutes)[number], body: string): Promise<Reply<ErrorBody>> => callers[route.who].post<ErrorBody>(route.path, body);

  it('covers the routes that take JSON', () => {
    expect(bodyRoutes.map((r) => r.key)).toEqual(
      expect.arrayContaining(['POST /v1/decide', 'POST /v1/approvals/:id/redeem', 'POST /v1/edge/decisions', 'POST /v1/policies/simulate', 'POST /v1/policies', 'POST /v1/auth/login']),
    );
  });

  it('refuses 100,000 levels of arrays or objects on every route: 413 request_too_large, never 500', async () => {
    for (const route of bodyRoutes) {
      for (const body of [arrays(DEEP), objects(DEEP), `{"x":${arrays(DEEP)}}`]) {
        const reply = await send(route, body);
        expect([route.key, reply.status, reply.body.error?.code]).toEqual([route.key, 413, 'request_too_large']);
      }
    }
  });

  const fields: [string, string, (deep: string) => string][] = [
    ['decide args', '/v1/decide', (deep) => `{"tool":"issue_refund","args":{"account_id":"A-1","amount":5,"currency":"USD","x":${deep}}}`],
    ['decide args itself', '/v1/decide', (deep) => `{"tool":"issue_refund","args":${deep}}`],
    ['decide session attributes', '/v1/decide', (deep) => `{"tool":"issue_refund","sessionAttributes":${deep}}`],
    ['decide tool', '/v1/decide', (deep) => `{"tool":${deep}}`],
    ['redeem args', '/v1/approvals/apr_x/redeem', (deep) => `{"tool":"issue_refund","args":{"x":${deep}}}`],
    ['edge report args', '/v1/edge/decisions', (deep) => `{"decisions":[{"id":"e1","at":1,"version":1,"rule":null,"call":{"tool":"get_account","args":{"account_id":${deep}}}}]}`],
    ['simulate call args', '/v1/policies/simulate', (deep) => `{"files":[{"file":"a.yaml","text":"x"}],"call":{"agent":"support-bot-1","tool":"get_account","args":{"a":${deep}}}}`],
    ['policy upload files', '/v1/policies', (deep) => `{"files":[{"file":"a.yaml","text":"x","extra":${deep}}]}`],
  ];

  it.each(fields)('refuses 100,000 levels in %s, arrays and objects', async (_name, path, body) => {
    const who = path.startsWith('/v1/policies') ? callers.admin : callers.agent;
    for (const deep of [arrays(DEEP), objects(DEEP)]) {
      const reply = await who.post<ErrorBody>(path, body(deep));
      expect(reply.status).toBe(413);
      expect(reply.body.error.code).toBe('request_too_large');
      expect(reply.body.error.param?.startsWith('body.')).toBe(true);
    }
  });

  it('refuses 100 concurrent deep decide calls alike, and the server still decides afterwards', async () => {
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => callers.agent.post<ErrorBody>('/v1/decide', fields[i % 2]![2](i % 3 ? objects(DEEP) : arrays(DEEP)))));
    expect(replies.map((r) => `${r.status} ${r.body.error.code}`)).toEqual(Array(100).fill('413 request_too_large'));
    const after = await callers.agent.post('/v1/decide', { tool: 'get_account', args: { account_id: 'A-1' } });
    expect(after.body).toMatchObject({ effect: 'allow' });
  });

  it('refuses a body of more than 20,000 values on every route but the batch reports, and 100 such decide calls at once: 413 request_too_large', async () => {
    // 30,000 ids in a decide's arguments (about 300 KB): what used to cost the event loop ~150 ms a call.
    const many = (tail: string) => `{"tool":"update_records","args":{"ids":[${Array.from({ length: 30_000 }, (_, i) => `"r${i}"`).join(',')}]}${tail}}`;
    // Batches of 500 reports (edge decisions, outcomes) are bounded by the body size alone.
    for (const route of bodyRoutes.filter((r) => r.path !== '/v1/edge/decisions' && r.path !== '/v1/outcomes')) {
      const reply = await send(route, many(''));
      expect(`${route.key} ${reply.status} ${reply.body.error?.code}`).toBe(`${route.key} 413 request_too_large`);
    }
    const replies = await Promise.all(Array.from({ length: 100 }, () => callers.agent.post<ErrorBody>('/v1/decide', many(''))));
    expect(replies.map((r) => `${r.status} ${r.body.error.code}`)).toEqual(Array(100).fill('413 request_too_large'));
    expect(replies[0]?.body.error.message).toContain('more than 20000 values');
    // The batch routes read such a body (and judge it by their schema: these are not reports).
    for (const path of ['/v1/edge/decisions', '/v1/outcomes']) expect((await callers.agent.post<ErrorBody>(path, many(''))).body.error.code).toBe('invalid_request');
    // 19,000 values are read (and decided: an unknown tool for this agent is blocked).
    const within = await callers.agent.post<{ effect: string }>('/v1/decide', `{"tool":"update_records","args":{"ids":[${Array.from({ length: 19_000 }, (_, i) => `"r${i}"`).join(',')}]}}`);
    expect(within.status).toBe(200);
    expect(within.body.effect).toBe('block');
  });

  it('refuses an object naming a key twice on every route: 400 duplicate_key naming it', async () => {
    for (const route of bodyRoutes) {
      for (const [body, param] of [
        ['{"a":1,"a":2}', 'body.a'],
        ['{"x":[{"k":1},{"k":1,"k":2}]}', 'body.x.1.k'],
      ] as const) {
        const reply = await send(route, body);
        expect([route.key, reply.status, reply.body.error?.code, reply.body.error?.param]).toEqual([route.key, 400, 'duplicate_key', param]);
      }
    }
  });

  it.each([
    ['the same spelling', '{"tool":"issue_refund","args":{"account_id":"A-1","currency":"USD","amount":20,"amount":900}}', 'body.args.amount'],
    ['an escaped spelling', '{"tool":"issue_refund","args":{"account_id":"A-1","currency":"USD","amount":20,"am\\u006funt":900}}', 'body.args.amount'],
    ['the tool', '{"tool":"get_account","args":{"account_id":"A-1"},"tool":"issue_refund"}', 'body.tool'],
  ])('decide: a key named twice (%s) is refused before anything is decided or recorded', async (_name, body, param) => {
    const before = await callers.admin.get<{ records: number }>('/v1/audit/verify');
    const reply = await callers.agent.post<ErrorBody>('/v1/decide', body);
    expect(reply.status).toBe(400);
    expect(reply.body.error).toMatchObject({ code: 'duplicate_key', param });
    expect(reply.body.error.message).toContain('twice');
    const after = await callers.admin.get<{ records: number }>('/v1/audit/verify');
    expect(after.body.records).toBe(before.body.records);
  });

  it('refuses NUL and unpaired surrogates in any string on every route: 400 invalid_text naming where', async () => {
    // The batch reports of calls that already ran are recorded with such text made storable (hostile-text-cluster.test.ts).
    for (const route of bodyRoutes.filter((r) => r.path !== '/v1/edge/decisions' && r.path !== '/v1/outcomes')) {
      for (const [body, param] of [
        [String.raw`{"a":"x\u0000"}`, 'body.a'],
        [String.raw`{"x":[{"k\ud800":1}]}`, 'body.x.0.(a key)'],
      ] as const) {
        const reply = await send(route, body);
        expect([route.key, reply.status, reply.body.error?.code, reply.body.error?.param]).toEqual([route.key, 400, 'invalid_text', param]);
      }
    }
    const reply = await callers.agent.post<ErrorBody>('/v1/decide', { tool: 'get_account', args: { account_id: 'A-1\u0000' } });
    expect(reply.body.error.message).toBe('body.args.account_id: a string holds U+0000 or an unpaired surrogate (\\uD800–\\uDFFF without its pair): text must be well-formed Unicode without NUL');
  });

  it('refuses 100 concurrent duplicate-key calls alike', async () => {
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => callers.agent.post<ErrorBody>('/v1/decide', `{"tool":"issue_refund","args":{"amount":${i},"amount":900}}`)));
    expect(replies.map((r) => `${r.status} ${r.body.error.code} ${r.body.error.param}`)).toEqual(Array(100).fill('400 duplicate_key body.args.amount'));
  });

  it('still decides (and audits) arguments nested past the engine bound but within the body bound: a block with request_too_large', async () => {
    const body = `{"tool":"issue_refund","args":{"account_id":"A-1","amount":5,"currency":"USD","x":${objects(MAX_JSON_DEPTH - 3)}}}`;
    const reply = await callers.agent.post<{ effect: string; error?: { code: string }; id: string }>('/v1/decide', body);
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ effect: 'block', error: { code: 'request_too_large' } });
    const records = await callers.admin.get<{ records: { data: { id: string } }[] }>('/v1/audit?type=decision&limit=5');
    expect(records.body.records.some((r) => r.data.id === reply.body.id)).toBe(true);
  });
});
