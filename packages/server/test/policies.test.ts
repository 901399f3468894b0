import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Person } from './support/http.js';
import { readEvents } from './support/sse.js';
import { startTestServer, type TestServer } from './support/server.js';

interface Source {
  file: string;
  text: string;
}

describe('policy versions', () => {
  let t: TestServer;
  let admin: Person;
  let seed: Source[];
  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.admin();
    seed = (await admin.get<{ sources: Source[] }>('/v1/policies/1')).body.sources;
  });
  afterAll(async () => {
    await t.dispose();
  });

  const withSupport = (edit: (text: string) => string): Source[] => seed.map((s) => (s.file === 'customer-support.yaml' ? { ...s, text: edit(s.text) } : s));

  it('starts with the example bundle as active version 1', async () => {
    const { body } = await admin.get<{ versions: { version: number; active: boolean; files: string[] }[]; active: number }>('/v1/policies');
    expect(body.active).toBe(1);
    expect(body.versions[0]).toMatchObject({ version: 1, active: true, files: ['customer-support.yaml', 'devops.yaml', 'finance.yaml', 'saas-workflow.yaml'] });
  });

  it('refuses a YAML error with 422 naming file and line, and stores nothing', async () => {
    const broken = [...seed, { file: 'broken.yaml', text: 'policy: broken\nappliesTo:\n  roles: [x\ndefault: block\n' }];
    const { status, body } = await admin.post<{ error: { code: string; errors: { code: string; file: string; line: number }[] } }>('/v1/policies', { files: broken });
    expect(status).toBe(422);
    expect(body.error.code).toBe('invalid_policy');
    expect(body.error.errors[0]).toMatchObject({ code: 'yaml_syntax', file: 'broken.yaml', line: expect.any(Number) });
    expect(body.error.errors[0]?.line).toBeGreaterThanOrEqual(3);
    expect((await admin.get<{ versions: unknown[] }>('/v1/policies')).body.versions).toHaveLength(1);
  });

  it('refuses a CEL type error found by compilation, with its line', async () => {
    const files = withSupport((text) => text.replace('when: args.amount <= 50', 'when: args.amount <= "fifty"'));
    const { status, body } = await admin.post<{ error: { errors: { code: string; file: string; line: number; path: string }[] } }>('/v1/policies/validate', { files });
    expect(status).toBe(422);
    const line = (seed.find((s) => s.file === 'customer-support.yaml') as Source).text.split('\n').findIndex((l) => l.includes('when: args.amount <= 50')) + 1;
    expect(body.error.errors).toContainEqual(expect.objectContaining({ code: 'cel_type', file: 'customer-support.yaml', line }));
  });

  it('validates without storing', async () => {
    const { status, body } = await admin.post('/v1/policies/validate', { name: 'examples', files: seed });
    expect(status).toBe(200);
    expect(body).toMatchObject({ valid: true, policies: ['customer-support', 'devops', 'finance', 'saas-workflow'] });
  });

  it('uploads, diffs, activates (pushed over SSE) and rolls back', async () => {
    const files = withSupport((text) => text.replace('when: args.amount <= 50', 'when: args.amount <= 10'));
    const uploaded = await admin.post<{ version: number; active: boolean; digest: string }>('/v1/policies', { name: 'examples', files });
    expect(uploaded.status).toBe(201);
    expect(uploaded.body).toMatchObject({ version: 2, active: false });

    const diff = await admin.get<{ files: { file: string; status: string; patch: string }[] }>('/v1/policies/diff?from=1&to=2');
    expect(diff.body.files).toHaveLength(1);
    expect(diff.body.files[0]).toMatchObject({ file: 'customer-support.yaml', status: 'modified' });
    expect(diff.body.files[0]?.patch).toContain('-    when: args.amount <= 50\n+    when: args.amount <= 10');

    const support = t.agent('support-bot-1');
    const refund = { tool: 'issue_refund', args: { account_id: 'P-1', amount: 20, currency: 'USD' } };
    expect((await support.post('/v1/decide', refund)).body).toMatchObject({ effect: 'allow', policy: { version: 1 } });

    const stream = await fetch(`${t.url}/v1/policy/stream`, { headers: { cookie: admin.cookie } });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const received = readEvents(stream, (e) => (e.data as { version: number }).version === 2);
    const activated = await admin.post('/v1/policies/2/activate');
    expect(activated.body).toMatchObject({ version: 2, active: true });
    const events = await received;
    expect(events.map((e) => [e.event, (e.data as { version: number }).version])).toEqual([
      ['policy', 1],
      ['policy', 2],
    ]);
    expect(events[1]?.data).toMatchObject({ digest: uploaded.body.digest, bundle: 'examples', sources: files });

    const decided = await support.post('/v1/decide', refund);
    // $20 is above the new $10 threshold and below refund-medium: no rule matches, the default blocks.
    expect(decided.body).toMatchObject({ effect: 'block', decidedBy: 'default', policy: { version: 2 } });

    expect((await admin.post('/v1/policies/rollback')).body).toMatchObject({ version: 1, active: true });
    expect((await support.post('/v1/decide', { ...refund, args: { ...refund.args, account_id: 'P-2' } })).body).toMatchObject({
      effect: 'allow',
      policy: { version: 1 },
    });

    const audit = await admin.get<{ records: { data: { version: number; how: string } }[] }>('/v1/audit?type=policy.activated');
    expect(audit.body.records.map((r) => [r.data.version, r.data.how])).toEqual([
      [1, 'rollback'],
      [2, 'activate'],
      [1, 'activate'],
    ]);
  });

  it('refuses a version whose limit changes kind under the same id (409 limit_kind_changed); a new id is fine', async () => {
    // refund-budget sums amounts; the same id counting calls would share its counters.
    const asRate = withSupport((text) => text.replace('    sum: args.amount\n    max: 100\n', '    max: 100\n'));
    expect(asRate.find((s) => s.file === 'customer-support.yaml')?.text).not.toContain('sum: args.amount');
    const before = (await admin.get<{ versions: unknown[] }>('/v1/policies')).body.versions.length;
    const refused = await admin.post<{ error: { code: string; message: string; policy: string; limit: string; kind: string; previousKind: string; version: number } }>('/v1/policies', { files: asRate });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'limit_kind_changed', limit: 'refund-budget', kind: 'rate', previousKind: 'budget', version: 1 });
    expect(refused.body.error.message).toContain('new id');
    expect((await admin.get<{ versions: unknown[] }>('/v1/policies')).body.versions.length).toBe(before);
    const renamed = asRate.map((s) => ({ ...s, text: s.text.replace('id: refund-budget', 'id: refund-calls') }));
    expect((await admin.post('/v1/policies', { files: renamed })).status).toBe(201);
  });

  it('100 concurrent uploads giving one new limit id two kinds: the first stored decides, every other kind is refused', async () => {
    const withLimit = (kind: 'rate' | 'budget', n: number): Source[] =>
      withSupport((text) => `${text}\n  - id: contested-limit\n    tools: [issue_refund]\n    key: [args.account_id]\n${kind === 'budget' ? '    sum: args.amount\n' : ''}    max: ${100 + n}\n    window: 1h\n    effect: block\n    reason: contested\n`);
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => admin.post<{ version?: number; error?: { code: string } }>('/v1/policies', { files: withLimit(i % 2 === 0 ? 'rate' : 'budget', i) }).then((reply) => ({ reply, kind: i % 2 === 0 ? 'rate' : 'budget' }))));
    const stored = replies.filter(({ reply }) => reply.status === 201);
    const refused = replies.filter(({ reply }) => reply.status === 409);
    expect(stored.length + refused.length).toBe(100);
    const winner = stored[0]?.kind;
    expect(stored.every(({ kind }) => kind === winner)).toBe(true);
    expect(stored).toHaveLength(50);
    expect(refused.every(({ kind, reply }) => kind !== winner && reply.body.error?.code === 'limit_kind_changed')).toBe(true);
  });

  it('answers 404 for an unknown version', async () => {
    expect((await admin.post('/v1/policies/99/activate')).body).toMatchObject({ error: { code: 'not_found' } });
    expect((await admin.get('/v1/policies/diff?from=1&to=99')).status).toBe(404);
  });
});
