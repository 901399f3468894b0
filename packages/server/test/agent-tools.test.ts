import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caller } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

interface ToolsBody {
  agent: string;
  role: string;
  environment: string;
  policy: { bundle: string; version: number } | null;
  tools: { tool: string; reach: 'open' | 'blocked'; rule: string | null; reason: string | null }[];
}

const reach = (body: ToolsBody) => Object.fromEntries(body.tools.map((t) => [t.tool, t.reach]));

describe('GET /v1/agent/tools', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.dispose();
  });

  it("answers the calling agent's own tools, from its key's role and environment", async () => {
    const { status, body } = await t.agent('support-bot-1').get<ToolsBody>('/v1/agent/tools');
    expect(status).toBe(200);
    expect(body).toMatchObject({ agent: 'support-bot-1', role: 'support', environment: 'production', policy: { version: 1 } });
    expect(reach(body)).toEqual({
      change_account_owner: 'blocked',
      create_ticket: 'open',
      export_customers: 'blocked',
      get_account: 'open',
      issue_refund: 'open',
    });
    expect(body.tools.find((tool) => tool.tool === 'export_customers')).toMatchObject({ rule: 'export-customers', reason: 'Exporting customer lists is not allowed for agents' });
    const devops = await t.agent('devops-bot-1').get<ToolsBody>('/v1/agent/tools');
    expect(devops.body.role).toBe('devops');
    expect(devops.body.tools.map((tool) => tool.tool)).not.toContain('issue_refund');
  });

  it('follows the active policy version', async () => {
    const admin = await t.admin();
    const seed = (await admin.get<{ sources: { file: string; text: string }[] }>('/v1/policies/1')).body.sources;
    const files = seed.map((s) => (s.file === 'customer-support.yaml' ? { ...s, text: s.text.replace('effect: block\n    reason: Exporting customer lists is not allowed for agents', 'effect: allow') } : s));
    const uploaded = await admin.post<{ version: number }>('/v1/policies', { name: 'examples', files });
    expect(uploaded.status).toBe(201);
    expect((await admin.post(`/v1/policies/${uploaded.body.version}/activate`)).status).toBe(200);
    const { body } = await t.agent('support-bot-1').get<ToolsBody>('/v1/agent/tools');
    expect(body.policy?.version).toBe(uploaded.body.version);
    expect(body.tools.find((tool) => tool.tool === 'export_customers')).toMatchObject({ reach: 'open', rule: null, reason: null });
  });

  it('is for agents only', async () => {
    expect((await caller(t.url).get('/v1/agent/tools')).status).toBe(401);
    expect((await (await t.admin()).get('/v1/agent/tools')).status).toBe(403);
  });
});
