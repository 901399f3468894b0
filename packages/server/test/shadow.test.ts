import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Person } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

interface Decision {
  id: string;
  effect: string;
  rule: string | null;
  policy: { version: number };
}

interface ShadowReport {
  version: number;
  calls: number;
  flipped: number;
  before: Record<string, number>;
  after: Record<string, number>;
  flips: { from: string; to: string; rule: string | null; count: number; examples: { id?: string }[] }[];
}

/** Shadow mode: a candidate decides live traffic beside the active version and enforces nothing. */
describe('shadow mode', () => {
  let t: TestServer;
  let admin: Person;
  let candidate: number;
  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.admin();
    const { body } = await admin.get<{ sources: { file: string; text: string }[] }>('/v1/policies/1');
    // The candidate lowers the automatic refund limit from $50 to $30.
    const files = body.sources.map((s) =>
      s.file.includes('customer-support') ? { ...s, text: s.text.replace('args.amount <= 50', 'args.amount <= 30').replace('args.amount > 50 &&', 'args.amount > 30 &&') } : s,
    );
    const uploaded = await admin.post<{ version: number }>('/v1/policies', { name: 'examples', files });
    expect(uploaded.status).toBe(201);
    candidate = uploaded.body.version;
  });
  afterAll(async () => {
    await t.dispose();
  });

  const refund = (account: string, amount: number) =>
    t.agent('support-bot-1').post<Decision>('/v1/decide', { tool: 'issue_refund', args: { account_id: account, amount, currency: 'USD' } });

  it('records exactly the disagreements of a candidate that lowers the refund threshold, enforcing nothing', async () => {
    expect((await admin.post<ShadowReport>(`/v1/policies/${candidate}/shadow`)).body).toMatchObject({ version: candidate, calls: 0 });
    const small = await refund('S-1', 20);
    const middle = await refund('S-2', 40);
    const other = await refund('S-3', 45);
    const large = await refund('S-4', 600);
    // The active version still decides: $40 and $45 are allowed.
    expect([small, middle, other, large].map((r) => `${r.body.effect}/${r.body.rule}/v${r.body.policy.version}`)).toEqual([
      'allow/refund-small/v1',
      'allow/refund-small/v1',
      'allow/refund-small/v1',
      'block/refund-large/v1',
    ]);

    const { body } = await admin.get<{ shadow: ShadowReport }>('/v1/policies/shadow');
    expect(body.shadow).toMatchObject({ version: candidate, calls: 4, flipped: 2 });
    expect(body.shadow.flips.map(({ from, to, rule, count }) => ({ from, to, rule, count }))).toEqual([
      { from: 'allow', to: 'require_approval', rule: 'refund-medium', count: 2 },
    ]);
    expect(body.shadow.flips[0]?.examples.map((e) => e.id)).toEqual([middle.body.id, other.body.id]);

    const audit = await admin.get<{ records: { type: string; data: { decision?: string; active?: unknown; candidate?: unknown } }[] }>('/v1/audit?type=shadow.flip');
    expect(audit.body.records.map((r) => r.data.decision).sort()).toEqual([middle.body.id, other.body.id].sort());
    expect(audit.body.records[0]?.data).toMatchObject({ active: { effect: 'allow', rule: 'refund-small' }, candidate: { effect: 'require_approval', rule: 'refund-medium' } });
  });

  it('refuses viewers, and promotes the candidate in one step', async () => {
    await admin.post('/v1/users', { username: 'shadow-viewer', password: 'a long enough password', role: 'viewer' });
    const { signIn } = await import('./support/http.js');
    const viewer = await signIn(t.url, 'shadow-viewer', 'a long enough password');
    expect((await viewer.get('/v1/policies/shadow')).status).toBe(200);
    expect((await viewer.post('/v1/policies/shadow/promote')).status).toBe(403);

    expect((await admin.post('/v1/policies/shadow/promote')).status).toBe(200);
    expect((await admin.get<{ shadow: null }>('/v1/policies/shadow')).body.shadow).toBeNull();
    const after = await refund('S-5', 40);
    expect(after.body).toMatchObject({ effect: 'require_approval', rule: 'refund-medium', policy: { version: candidate } });
    const stopped = await admin.get<{ records: { type: string }[] }>('/v1/audit?type=policy.shadow_stopped');
    expect(stopped.body.records).toHaveLength(1);
  });
});
