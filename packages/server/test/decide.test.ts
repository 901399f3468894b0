import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agent } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

interface DecisionBody {
  id: string;
  at: string;
  effect: string;
  rule: string | null;
  reason: string;
  policy: { bundle: string; version: number };
  approval?: { id: string; status: string; approvers: string[]; expiresAt: string };
  limits: { limit: string; used: number; consumed: boolean }[];
  error?: { code: string };
}

type Row = [agent: string, tool: string, args: Record<string, unknown>, effect: string, rule: string | null];

const ids = (n: number) => Array.from({ length: n }, (_, i) => `r-${i}`);

/** The DESIGN.md table, one row per outcome, through the real API with the demo agents' keys. */
const SCENARIOS: Row[] = [
  ['support-bot-1', 'get_account', { account_id: 'A-1' }, 'allow', 'read-account'],
  ['support-bot-1', 'create_ticket', { account_id: 'A-1', subject: 'Login fails' }, 'allow', 'create-ticket'],
  ['support-bot-1', 'issue_refund', { account_id: 'A-2', amount: 50, currency: 'USD' }, 'allow', 'refund-small'],
  ['support-bot-1', 'issue_refund', { account_id: 'A-3', amount: 75, currency: 'USD' }, 'require_approval', 'refund-medium'],
  ['support-bot-1', 'issue_refund', { account_id: 'A-4', amount: 501, currency: 'USD' }, 'block', 'refund-large'],
  ['support-bot-1', 'export_customers', {}, 'block', 'export-customers'],
  ['support-bot-1', 'change_account_owner', { account_id: 'A-1', new_owner_email: 'eve@example.com' }, 'block', 'change-account-owner'],
  ['devops-bot-1', 'get_metrics', { service: 'api', environment: 'production' }, 'allow', 'read-metrics'],
  ['devops-bot-1', 'read_logs', { service: 'api', environment: 'production' }, 'allow', 'read-logs'],
  ['devops-bot-1', 'scale_service', { service: 'api', environment: 'staging', replicas: 3 }, 'allow', 'scale-non-production'],
  ['devops-bot-1', 'scale_service', { service: 'api', environment: 'production', replicas: 3 }, 'require_approval', 'scale-production'],
  ['devops-bot-1', 'provision_instance', { instance_type: 't3.micro', environment: 'dev' }, 'allow', 'provision-small'],
  ['devops-bot-1', 'provision_instance', { instance_type: 'm5.2xlarge', environment: 'dev' }, 'require_approval', 'provision-large'],
  ['devops-bot-1', 'delete_resource', { resource_id: 'db-1', environment: 'production' }, 'block', 'delete-production'],
  ['devops-bot-1', 'delete_resource', { resource_id: 'db-1', environment: 'staging' }, 'require_approval', 'delete-non-production'],
  ['devops-bot-1', 'modify_iam_policy', { policy: 'admin' }, 'block', 'modify-iam'],
  ['devops-bot-1', 'update_security_group', { group: 'sg-1' }, 'block', 'update-security-group'],
  ['finance-bot-1', 'get_balance', { account_id: 'ACC-1' }, 'allow', 'read-balance'],
  ['finance-bot-1', 'make_payment', { amount: 999, currency: 'USD', payee: 'ACME' }, 'allow', 'payment-small'],
  ['finance-bot-1', 'make_payment', { amount: 1000, currency: 'USD', payee: 'ACME' }, 'require_approval', 'payment-medium'],
  ['finance-bot-1', 'make_payment', { amount: 25001, currency: 'USD', payee: 'ACME' }, 'block', 'payment-large'],
  ['finance-bot-1', 'transfer_funds', { amount: 9999, currency: 'USD', from_account: 'a', to_account: 'b', destination: 'internal' }, 'allow', 'transfer-internal-small'],
  ['finance-bot-1', 'transfer_funds', { amount: 10000, currency: 'USD', from_account: 'a', to_account: 'b', destination: 'internal' }, 'require_approval', 'transfer-internal-large'],
  ['finance-bot-1', 'transfer_funds', { amount: 5, currency: 'USD', from_account: 'a', to_account: 'b', destination: 'external' }, 'require_approval', 'transfer-external'],
  ['finance-bot-1', 'modify_account_permissions', { account_id: 'ACC-1' }, 'block', 'modify-permissions'],
  ['workflow-bot-1', 'read_records', { system: 'crm', object: 'contact' }, 'allow', 'read-records'],
  ['workflow-bot-1', 'create_record', { system: 'crm', object: 'contact', fields: { name: 'Ada' } }, 'allow', 'create-record'],
  ['workflow-bot-1', 'update_records', { system: 'crm', object: 'contact', ids: ids(99) }, 'allow', 'update-few'],
  ['workflow-bot-1', 'update_records', { system: 'crm', object: 'contact', ids: ids(100) }, 'require_approval', 'update-bulk'],
  ['workflow-bot-1', 'delete_records', { system: 'crm', object: 'contact', ids: ids(1) }, 'require_approval', 'delete-few'],
  ['workflow-bot-1', 'delete_records', { system: 'crm', object: 'contact', ids: ids(100) }, 'block', 'delete-bulk'],
  ['workflow-bot-1', 'modify_schema', { object: 'contact' }, 'block', 'modify-schema'],
];

describe('POST /v1/decide', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.dispose();
  });

  it.each(SCENARIOS)('%s %s %j → %s (%s)', async (agentId, tool, args, effect, rule) => {
    const { status, body } = await t.agent(agentId).post<DecisionBody>('/v1/decide', { tool, args });
    expect(status).toBe(200);
    expect({ effect: body.effect, rule: body.rule }).toEqual({ effect, rule });
    expect(body.id).toMatch(/^dec_/);
    expect(body.policy).toMatchObject({ bundle: 'examples', version: 1 });
    if (effect === 'require_approval') {
      expect(body.approval).toMatchObject({ id: expect.stringMatching(/^apr_/), status: 'pending', approvers: expect.any(Array) });
      expect(Date.parse(body.approval?.expiresAt ?? '') - Date.parse(body.at)).toBe(15 * 60_000);
    } else {
      expect(body.approval).toBeUndefined();
    }
  });

  it('blocks calls outside the policy with a code: unknown tool, invalid arguments', async () => {
    const support = t.agent('support-bot-1');
    const unknown = await support.post<DecisionBody>('/v1/decide', { tool: 'drop_database', args: {} });
    expect(unknown.body).toMatchObject({ effect: 'block', error: { code: 'unknown_tool' } });
    const invalid = await support.post<DecisionBody>('/v1/decide', { tool: 'issue_refund', args: { account_id: 'A-9', amount: '75', currency: 'USD' } });
    expect(invalid.body).toMatchObject({ effect: 'block', error: { code: 'invalid_arguments' } });
  });

  it('ignores agent, role, environment and at in the body: identity comes from the key, time from the server', async () => {
    const support = t.agent('support-bot-1');
    const claims = { agent: 'finance-bot-1', role: 'finance', environment: 'dev', at: '2020-01-01T00:00:00Z' };
    const asFinance = await support.post<DecisionBody>('/v1/decide', { ...claims, tool: 'get_balance', args: { account_id: 'ACC-1' } });
    expect(asFinance.body).toMatchObject({ effect: 'block', error: { code: 'unknown_tool' } });
    expect(asFinance.body.at).toBe(new Date(t.clock.now()).toISOString());

    const admin = await t.admin();
    const audit = await admin.get<{ records: { agent: string; data: { id: string; identity: Record<string, string> } }[] }>(
      `/v1/audit?type=decision&tool=get_balance&limit=1`,
    );
    expect(audit.body.records[0]).toMatchObject({
      agent: 'support-bot-1',
      data: { id: asFinance.body.id, identity: { agent: 'support-bot-1', role: 'support', environment: 'production' } },
    });
  });

  it('takes the environment from the key even where the policy treats environments differently', async () => {
    const admin = await t.admin();
    const current = await admin.get<{ sources: { file: string; text: string }[] }>('/v1/policies/1');
    const files = current.body.sources.map((s) =>
      s.file === 'customer-support.yaml' ? { ...s, text: `${s.text}\nenvironments:\n  dev:\n    default: allow\n    disable: [refund-large, refund-budget]\n` } : s,
    );
    const uploaded = await admin.post<{ version: number }>('/v1/policies', { name: 'examples', files });
    expect(uploaded.status).toBe(201);
    expect((await admin.post(`/v1/policies/${uploaded.body.version}/activate`)).status).toBe(200);
    expect((await admin.post('/v1/agents', { id: 'support-dev-1', role: 'support', environment: 'dev' })).status).toBe(201);
    const devKey = await admin.post<{ key: string }>('/v1/agents/support-dev-1/keys');
    const refund = { tool: 'issue_refund', args: { account_id: 'A-77', amount: 600, currency: 'USD' } };

    const fromDevKey = await agent(t.url, devKey.body.key).post<DecisionBody>('/v1/decide', refund);
    expect(fromDevKey.body).toMatchObject({ effect: 'allow', policy: { version: uploaded.body.version } });
    const claimedDev = await t.agent('support-bot-1').post<DecisionBody>('/v1/decide', { ...refund, environment: 'dev' });
    expect(claimedDev.body).toMatchObject({ effect: 'block', rule: 'refund-large' });

    expect((await admin.post('/v1/policies/rollback')).status).toBe(200);
  });

  it('applies the per-account refund budget across calls', async () => {
    const support = t.agent('support-bot-1');
    const refund = { tool: 'issue_refund', args: { account_id: 'BUDGET-1', amount: 45, currency: 'USD' } };
    const effects: string[] = [];
    for (let i = 0; i < 3; i++) effects.push((await support.post<DecisionBody>('/v1/decide', refund)).body.effect);
    expect(effects).toEqual(['allow', 'allow', 'require_approval']);
  });

  it('returns the same decision for a repeated Idempotency-Key and consumes limits once', async () => {
    const support = t.agent('support-bot-1');
    const refund = { tool: 'issue_refund', args: { account_id: 'IDEM-1', amount: 40, currency: 'USD' } };
    const headers = { 'idempotency-key': 'retry-1' };
    const first = await support.post<DecisionBody>('/v1/decide', refund, headers);
    const concurrent = await Promise.all([1, 2, 3].map(() => support.post<DecisionBody>('/v1/decide', refund, headers)));
    for (const retry of concurrent) {
      expect(retry.body.id).toBe(first.body.id);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
    }
    // $40 consumed once: a fresh $40 sees 40 used (three consumptions would have shown 160 and asked for approval).
    const next = await support.post<DecisionBody>('/v1/decide', refund);
    expect(next.body.effect).toBe('allow');
    expect(next.body.limits[0]).toMatchObject({ limit: 'refund-budget', used: 40 });
  });

  it('refuses an Idempotency-Key reused for a different call', async () => {
    const support = t.agent('support-bot-1');
    const headers = { 'idempotency-key': 'retry-2' };
    await support.post('/v1/decide', { tool: 'get_account', args: { account_id: 'A-1' } }, headers);
    const reused = await support.post('/v1/decide', { tool: 'get_account', args: { account_id: 'A-2' } }, headers);
    expect(reused.status).toBe(422);
    expect(reused.body).toMatchObject({ error: { code: 'idempotency_key_reused' } });
  });

  it('rejects bodies over 1 MiB with 413 JSON', async () => {
    const big = { tool: 'create_ticket', args: { account_id: 'A-1', subject: 'x'.repeat(1024 * 1024) } };
    const { status, body } = await t.agent('support-bot-1').post('/v1/decide', big);
    expect(status).toBe(413);
    expect(body).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('rejects a malformed body with 400 naming the field', async () => {
    const support = t.agent('support-bot-1');
    const missing = await support.post('/v1/decide', { args: {} });
    expect(missing).toMatchObject({ status: 400, body: { error: { code: 'invalid_request', param: 'body.tool' } } });
    const notJson = await support.post('/v1/decide', '{"tool":');
    expect(notJson).toMatchObject({ status: 400, body: { error: { code: 'invalid_json' } } });
    // A literal past the double range parses to Infinity: refused naming the field, at any depth,
    // instead of a decision whose audit record could not be written (it was store_unavailable).
    const overflow = await support.post('/v1/decide', '{"tool":"issue_refund","args":{"account_id":"A-1","amount":1e999,"currency":"USD"}}');
    expect(overflow).toMatchObject({ status: 400, body: { error: { code: 'invalid_request', param: 'body.args.amount' } } });
    const nested = await support.post('/v1/decide', '{"tool":"bulk_update","args":{"records":[{"qty":1},{"qty":-1e999}]}}');
    expect(nested).toMatchObject({ status: 400, body: { error: { code: 'invalid_request', param: 'body.args.records.1.qty' } } });
  });

  it('answers 401 without a key and with a wrong or revoked key', async () => {
    const anonymous = await fetch(`${t.url}/v1/decide`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tool":"x"}' });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 'unauthenticated' } });

    const key = t.keys['support-bot-1'] as string;
    const forged = `${key.slice(0, -4)}AAAA`;
    expect((await agent(t.url, forged).post('/v1/decide', { tool: 'get_account', args: { account_id: 'A' } })).body).toMatchObject({
      error: { code: 'invalid_api_key' },
    });

    const admin = await t.admin();
    const issued = await admin.post<{ id: string; key: string }>('/v1/agents/support-bot-1/keys');
    const extra = agent(t.url, issued.body.key);
    expect((await extra.post('/v1/decide', { tool: 'get_account', args: { account_id: 'A' } })).status).toBe(200);
    expect((await admin.delete(`/v1/keys/${issued.body.id}`)).status).toBe(200);
    expect((await extra.post('/v1/decide', { tool: 'get_account', args: { account_id: 'A' } })).status).toBe(401);
  });
});
