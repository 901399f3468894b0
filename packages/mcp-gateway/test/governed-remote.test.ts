import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Person } from '../../server/test/support/http.js';
import { startTestServer, type TestServer } from '../../server/test/support/server.js';
import { serveSupportHttp } from './fixtures/support-server-http.js';
import { fixtureCommand, httpClient, httpProxy, received, refusalOf, stdioClient, tempDir, text } from './harness.js';

interface AuditRecord {
  type: string;
  tool: string | null;
  effect: string | null;
  rule: string | null;
  data: { request?: { args: Record<string, unknown> }; approval?: string };
}

/**
 * The acceptance run, against a real Airlock server (temporary SQLite file): the proxy in
 * front of the fixture MCP server, driven by the SDK's Client over stdio (proxy starts the fixture
 * as its child) and over Streamable HTTP (proxy in front of the fixture's HTTP endpoint).
 */
describe.each(['stdio', 'http'] as const)('governing an MCP server over %s, decisions by an Airlock server', (transport) => {
  let t: TestServer;
  let admin: Person;
  let record: string;
  let client: Client;

  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.admin();
  });
  afterAll(async () => {
    await t.dispose();
  });

  /** The decisions the server audited for calls matching `match`, as `tool effect rule`. */
  async function audited(match: (args: Record<string, unknown>, tool: string | null) => boolean): Promise<string[]> {
    const page = await admin.get<{ records: AuditRecord[] }>('/v1/audit?type=decision&agent=support-bot-1&limit=1000');
    // Newest first from the API; oldest first here, as the calls were made.
    return [...page.body.records].reverse().filter((r) => match(r.data.request?.args ?? {}, r.tool)).map((r) => `${r.tool} ${r.effect} ${r.rule}`);
  }
  const forAccount = (id: string) => (args: Record<string, unknown>) => args.account_id === id;

  /** A fresh proxy and fixture for one test; the fixture records into its own file. */
  async function connect(extra: string[] = []): Promise<Client> {
    const dir = tempDir();
    record = join(dir, 'received.jsonl');
    const key = t.keys['support-bot-1'] as string;
    if (transport === 'stdio') {
      ({ client } = await stdioClient(['--url', t.url, ...extra, '--', ...fixtureCommand(record)], { env: { AIRLOCK_API_KEY: key } }));
    } else {
      const upstream = await serveSupportHttp(record);
      onTestFinished(upstream.close);
      const proxy = await httpProxy(['--url', t.url, '--upstream', upstream.url, ...extra]);
      ({ client } = await httpClient(proxy.url, key));
    }
    return client;
  }

  const account = (n: number) => `${transport}-${n}`;

  it('runs a $20 refund: it reaches the server with exactly its arguments', async () => {
    await connect();
    const args = { account_id: account(1), amount: 20, currency: 'USD' };
    const result = await client.callTool({ name: 'issue_refund', arguments: args });
    expect(result.isError).toBeFalsy();
    expect(text(result)).toBe(`refunded 20 USD to ${account(1)}`);
    expect(received(record)).toEqual([{ tool: 'issue_refund', args }]);
    expect(await audited(forAccount(account(1)))).toEqual(['issue_refund allow refund-small']);
  });

  it('records the outcome of a forwarded call and of an upstream error, each after its decision', async () => {
    await connect();
    const args = { account_id: account(40), amount: 20, currency: 'USD' };
    expect((await client.callTool({ name: 'issue_refund', arguments: args })).isError).toBeFalsy();
    expect((await client.callTool({ name: 'get_account', arguments: { account_id: 'fail' } })).isError).toBe(true);
    const outcomes = async () => {
      const page = await admin.get<{ records: (AuditRecord & { seq: number; data: { id?: string; decision?: string; error?: unknown } })[] }>('/v1/audit?agent=support-bot-1&limit=1000');
      const records = [...page.body.records].reverse();
      const decisionOf = (match: (a: Record<string, unknown>) => boolean) => records.filter((r) => r.type === 'decision' && match(r.data.request?.args ?? {})).pop();
      const refund = decisionOf((a) => a.account_id === account(40));
      const lookup = decisionOf((a) => a.account_id === 'fail');
      return {
        executed: records.find((r) => r.type === 'call.executed' && r.data.decision === refund?.data.id && r.seq > (refund?.seq ?? Infinity)),
        failed: records.find((r) => r.type === 'call.failed' && r.data.decision === lookup?.data.id && r.seq > (lookup?.seq ?? Infinity)),
      };
    };
    // Outcomes go in batches off the call's path: wait for them to land.
    await expect.poll(outcomes, { timeout: 10_000, interval: 100 }).toMatchObject({
      executed: { tool: 'issue_refund' },
      failed: { tool: 'get_account', data: { error: { class: 'ToolError', message: expect.stringContaining('account store is down') } } },
    });
  });

  it('holds a $75 refund for approval, reports progress while it waits, and runs it once a person approves through the API', async () => {
    await connect();
    const args = { account_id: account(2), amount: 75, currency: 'USD' };
    let progressed: (message: string) => void = () => undefined;
    const firstProgress = new Promise<string>((resolve) => (progressed = resolve));
    const call = client.callTool({ name: 'issue_refund', arguments: args }, undefined, {
      onprogress: (progress) => progressed(progress.message ?? ''),
      resetTimeoutOnProgress: true,
    });
    expect(await firstProgress).toMatch(/^Waiting for approval apr_\S+ from support-leads: Refunds over \$50 up to \$500 need approval, by a support lead up to \$200 and a support manager above$/);
    // Nothing ran while it waited.
    expect(received(record)).toEqual([]);
    const pending = await admin.get<{ approvals: { id: string; tool: string; args: Record<string, unknown> }[] }>('/v1/approvals?status=pending&agent=support-bot-1');
    const approval = pending.body.approvals.find((a) => a.args.account_id === account(2));
    expect(approval).toMatchObject({ tool: 'issue_refund', args });
    expect((await admin.post(`/v1/approvals/${approval?.id}/approve`, { reason: 'customer was double charged' })).status).toBe(200);
    const result = await call;
    expect(text(result)).toBe(`refunded 75 USD to ${account(2)}`);
    expect(received(record)).toEqual([{ tool: 'issue_refund', args }]);
    expect(await audited(forAccount(account(2)))).toEqual(['issue_refund require_approval refund-medium']);
    const trail = await admin.get<{ records: AuditRecord[] }>('/v1/audit?agent=support-bot-1&limit=1000');
    const transitions = trail.body.records.filter((r) => r.type.startsWith('approval.') && r.data.approval === approval?.id).map((r) => r.type);
    expect(transitions.reverse()).toEqual(['approval.created', 'approval.approved', 'approval.redeemed']);
  });

  it('decides every call of every session afresh, though JSON-RPC ids restart in each: two $50 refunds run, the third waits for approval', async () => {
    const args = { account_id: account(9), amount: 50, currency: 'USD' };
    for (let i = 0; i < 2; i++) {
      await connect();
      expect(text(await client.callTool({ name: 'issue_refund', arguments: args }))).toBe(`refunded 50 USD to ${account(9)}`);
      await client.close();
    }
    await connect();
    const sixth = client.callTool({ name: 'issue_refund', arguments: args });
    const approval = await eventually(async () => {
      const pending = await admin.get<{ approvals: { id: string; args: Record<string, unknown> }[] }>('/v1/approvals?status=pending&agent=support-bot-1');
      return pending.body.approvals.find((a) => a.args.account_id === account(9));
    });
    expect((await admin.post(`/v1/approvals/${approval.id}/deny`, { reason: 'budget' })).status).toBe(200);
    expect(refusalOf(await sixth)).toMatchObject({ code: 'approval_denied' });
    expect(received(record)).toEqual([]);
    expect(await audited(forAccount(account(9)))).toEqual([...Array(2).fill('issue_refund allow refund-small'), 'issue_refund require_approval refund-budget']);
  }, 120_000);

  it('refuses a $900 refund and export_customers with the reason, and neither reaches the server', async () => {
    await connect();
    const large = refusalOf(await client.callTool({ name: 'issue_refund', arguments: { account_id: account(3), amount: 900, currency: 'USD' } }));
    expect(large).toMatchObject({ airlock: 'blocked', code: 'policy', rule: 'refund-large', reason: 'Refunds over $500 are never automated' });
    const exported = refusalOf(await client.callTool({ name: 'export_customers', arguments: {} }));
    expect(exported).toMatchObject({ code: 'policy', rule: 'export-customers', reason: 'Exporting customer lists is not allowed for agents' });
    const invalid = refusalOf(await client.callTool({ name: 'issue_refund', arguments: { account_id: account(3), amount: '5', currency: 'USD' } }));
    expect(invalid).toMatchObject({ code: 'invalid_arguments' });
    expect(received(record)).toEqual([]);
    expect(await audited(forAccount(account(3)))).toEqual(['issue_refund block refund-large', 'issue_refund block null']);
    expect(await audited((_args, tool) => tool === 'export_customers')).toEqual(['export_customers block export-customers']);
  });

  it('hides export_customers from tools/list, and lists it with --no-hide-blocked-tools', async () => {
    await connect();
    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['issue_refund', 'get_account']);
    await connect(['--no-hide-blocked-tools']);
    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['issue_refund', 'get_account', 'export_customers']);
  });

  it('answers an unknown method with a protocol error and keeps serving', async () => {
    await connect();
    await expect(client.request({ method: 'no/such_method', params: {} }, (await import('@modelcontextprotocol/sdk/types.js')).ResultSchema)).rejects.toMatchObject({ code: -32601 });
    expect(text(await client.callTool({ name: 'get_account', arguments: { account_id: account(4) } }))).toContain(account(4));
  });
});

/** Polls `check` until it answers something. */
async function eventually<T>(check: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
