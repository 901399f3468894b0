import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEvents } from './support/sse.js';
import { startTestServer, type TestServer } from './support/server.js';

interface PolicyData {
  version: number;
  sources: { file: string; text: string }[];
}

/** Text that only the named roles' seed policies contain. */
const MARKS: Record<string, string[]> = {
  support: ['policy: customer-support', 'issue_refund', 'support-leads'],
  devops: ['policy: devops', 'scale_service', 'delete_resource'],
  finance: ['policy: finance', 'make_payment', 'finance-approvers'],
  workflow: ['policy: saas-workflow', 'delete_records'],
};

/**
 * Least privilege on GET /v1/edge/stream: an agent key receives the policies of its own role
 * (it received the whole bundle: every role's tools, thresholds and approver groups).
 */
describe('edge stream: a key receives only its own role\'s policy', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.dispose();
  });

  async function policyOf(agent: string): Promise<string> {
    const response = await fetch(`${t.url}/v1/edge/stream`, { headers: { authorization: `Bearer ${t.keys[agent] as string}` } });
    const events = await readEvents(response, (e) => e.event === 'policy');
    const policy = events.find((e) => e.event === 'policy')?.data as PolicyData;
    return policy.sources.map((s) => s.text).join('\n');
  }

  function expectOnly(text: string, role: string): void {
    for (const [other, marks] of Object.entries(MARKS)) {
      for (const mark of marks) expect(text.includes(mark), `${role} stream and ${mark}`).toBe(other === role);
    }
  }

  it('a support key\'s stream holds no devops, finance or workflow policy text', async () => {
    expectOnly(await policyOf('support-bot-1'), 'support');
    expectOnly(await policyOf('devops-bot-1'), 'devops');
  });

  it('100 streams at once, of four roles: each gets its own role\'s policy only', async () => {
    const agents = ['support-bot-1', 'devops-bot-1', 'finance-bot-1', 'workflow-bot-1'];
    const roles = ['support', 'devops', 'finance', 'workflow'];
    const texts = await Promise.all(Array.from({ length: 100 }, (_, i) => policyOf(agents[i % 4] as string)));
    texts.forEach((text, i) => expectOnly(text, roles[i % 4] as string));
  });

  it('a newly activated version is scoped too', async () => {
    const admin = await t.admin();
    const response = await fetch(`${t.url}/v1/edge/stream`, { headers: { authorization: `Bearer ${t.keys['support-bot-1'] as string}` } });
    let first = true;
    const activated = readEvents(response, (e) => {
      if (e.event !== 'policy') return false;
      if (first) {
        first = false;
        return false;
      }
      return true;
    });
    const upload = await admin.post<{ version: number }>('/v1/policies', {
      name: 'seed',
      files: [
        { file: 'support.yaml', text: 'policy: support-two\nappliesTo: { roles: [support] }\ntools:\n  get_account:\n    args: { account_id: { type: string } }\nrules:\n  - id: read\n    tool: get_account\n    effect: allow\n' },
        { file: 'ops.yaml', text: 'policy: ops-secret\nappliesTo: { roles: [devops] }\ntools:\n  rotate_root_keys:\n    args: {}\nrules: []\n' },
      ],
    });
    expect(upload.status).toBe(201);
    expect((await admin.post(`/v1/policies/${upload.body.version}/activate`)).status).toBe(200);
    const events = await activated;
    const latest = events.filter((e) => e.event === 'policy').at(-1)?.data as PolicyData;
    expect(latest.version).toBe(upload.body.version);
    const text = latest.sources.map((s) => s.text).join('\n');
    expect(text).toContain('support-two');
    expect(text).not.toContain('ops-secret');
    expect(text).not.toContain('rotate_root_keys');
    expect(latest.sources.map((s) => s.file)).toEqual(['support.yaml']);
  });
});
