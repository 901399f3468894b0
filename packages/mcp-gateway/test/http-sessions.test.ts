import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/support/server.js';
import { serveSupportHttp } from './fixtures/support-server-http.js';
import { fixtureCommand, httpClient, httpProxy, received, receivers, refusalOf, tempDir } from './harness.js';

const INITIALIZE = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

describe('the Streamable HTTP proxy: one agent identity per client session', () => {
  let t: TestServer;
  let proxyUrl: string;
  let record: string;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.dispose();
  });

  async function start(extra: string[] = []): Promise<void> {
    record = join(tempDir(), 'received.jsonl');
    const upstream = await serveSupportHttp(record);
    onTestFinished(upstream.close);
    proxyUrl = (await httpProxy(['--url', t.url, '--upstream', upstream.url, ...extra])).url;
  }

  const post = (body: unknown, headers: Record<string, string>) => fetch(proxyUrl, { method: 'POST', headers: { ...HEADERS, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('refuses a session without an agent key, or with one Airlock does not know', async () => {
    await start();
    const none = await post(INITIALIZE, {});
    expect(none.status).toBe(401);
    const unknown = await post(INITIALIZE, { authorization: 'Bearer ak_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toMatchObject({ error: { message: expect.stringContaining('Airlock refused this agent key') } });
  });

  it('decides each session as the agent whose key opened it, and keeps other keys out of it', async () => {
    await start();
    const support = await httpClient(proxyUrl, t.keys['support-bot-1'] as string, 'x-airlock-api-key');
    const devops = await httpClient(proxyUrl, t.keys['devops-bot-1'] as string);
    // The same MCP server, two agents: devops has no issue_refund in its policy.
    expect((await support.client.listTools()).tools.map((tool) => tool.name)).toEqual(['issue_refund', 'get_account']);
    expect((await devops.client.listTools()).tools.map((tool) => tool.name)).toEqual([]);
    expect(await support.client.callTool({ name: 'get_account', arguments: { account_id: 'A-1' } })).not.toHaveProperty('isError', true);
    expect(refusalOf(await devops.client.callTool({ name: 'get_account', arguments: { account_id: 'A-2' } }))).toMatchObject({ code: 'unknown_tool' });
    expect(received(record)).toEqual([{ tool: 'get_account', args: { account_id: 'A-1' } }]);

    const opened = await post(INITIALIZE, { authorization: `Bearer ${t.keys['support-bot-1']}` });
    const session = opened.headers.get('mcp-session-id') as string;
    expect(session).toBeTruthy();
    const list = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };
    const hijack = await post(list, { authorization: `Bearer ${t.keys['finance-bot-1']}`, 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' });
    expect(hijack.status).toBe(403);
    expect((await post(list, { authorization: `Bearer ${t.keys['support-bot-1']}`, 'mcp-session-id': 'no-such-session' })).status).toBe(404);
    const garbage = await post('{"jsonrpc":', { authorization: `Bearer ${t.keys['support-bot-1']}`, 'mcp-session-id': session });
    expect(garbage.status).toBe(400);
    expect(await garbage.json()).toMatchObject({ id: null, error: { code: -32700 } });
    // The session still serves its own key.
    expect((await support.client.listTools()).tools).toHaveLength(2);
  });

  it('starts one MCP server process per session when the upstream is a command', async () => {
    const dir = tempDir();
    const sessionRecord = join(dir, 'received.jsonl');
    const url = (await httpProxy(['--url', t.url, '--', ...fixtureCommand(sessionRecord)])).url;
    const first = await httpClient(url, t.keys['support-bot-1'] as string);
    const second = await httpClient(url, t.keys['support-bot-1'] as string);
    expect(await first.client.callTool({ name: 'get_account', arguments: { account_id: 'S-1' } })).not.toHaveProperty('isError', true);
    expect(await second.client.callTool({ name: 'get_account', arguments: { account_id: 'S-2' } })).not.toHaveProperty('isError', true);
    expect(refusalOf(await second.client.callTool({ name: 'export_customers', arguments: {} }))).toMatchObject({ rule: 'export-customers' });
    expect(received(sessionRecord).map((r) => r.args.account_id)).toEqual(['S-1', 'S-2']);
    const [one, two] = receivers(sessionRecord);
    expect(one).not.toBe(two);
  });

  it('refuses a call whose approval does not come in time, without running it', async () => {
    await start(['--approval-timeout', '1']);
    const support = await httpClient(proxyUrl, t.keys['support-bot-1'] as string);
    const refused = refusalOf(await support.client.callTool({ name: 'issue_refund', arguments: { account_id: 'T-1', amount: 75, currency: 'USD' } }));
    expect(refused).toMatchObject({ code: 'approval_timeout', reason: 'no one approved issue_refund in time' });
    expect(received(record)).toEqual([]);
  });
});
