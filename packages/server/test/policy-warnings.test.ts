import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Person } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

interface Source {
  file: string;
  text: string;
}

interface Warning {
  code: string;
  severity: string;
  message: string;
  file: string;
  line: number;
  path: string;
  rule?: string;
  tool?: string;
  region?: { text: string }[];
  environments: string[];
}

/** `POST /v1/policies/validate` and `POST /v1/policies` carry the `policy check` findings as `warnings`. */
describe('policy warnings', () => {
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

  const supportText = (): string => (seed.find((s) => s.file === 'customer-support.yaml') as Source).text;
  const withSupport = (edit: (text: string) => string): Source[] => seed.map((s) => (s.file === 'customer-support.yaml' ? { ...s, text: edit(s.text) } : s));
  const lineOf = (text: string, needle: string): number => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

  it('validates the seed bundle with no warnings, keeping the existing fields', async () => {
    const { status, body } = await admin.post('/v1/policies/validate', { name: 'examples', files: seed });
    expect(status).toBe(200);
    expect(body).toMatchObject({ valid: true, bundle: 'examples', digest: expect.any(String), policies: ['customer-support', 'devops', 'finance', 'saas-workflow'], warnings: [] });
  });

  it('reports a planted gap at exactly 50 as a warning with file and line, and stays valid', async () => {
    const files = withSupport((text) => text.replace('when: args.amount <= 50', 'when: args.amount < 50'));
    const { status, body } = await admin.post<{ valid: boolean; warnings: Warning[] }>('/v1/policies/validate', { name: 'examples', files });
    expect(status).toBe(200);
    expect(body.valid).toBe(true);
    expect(body.warnings).toHaveLength(1);
    expect(body.warnings[0]).toMatchObject({
      code: 'threshold_gap',
      severity: 'warning',
      file: 'customer-support.yaml',
      line: lineOf(supportText(), '      amount: { type: number'),
      path: 'tools.issue_refund.args.amount',
      tool: 'issue_refund',
      region: [{ text: 'amount = 50' }],
    });
  });

  it('returns warnings on upload (a rule that stricter ones shadow) and stores the version', async () => {
    const files = withSupport((text) =>
      text.replace('  - id: refund-large\n', '  - id: refund-wide\n    tool: issue_refund\n    when: args.amount > 400\n    effect: allow\n  - id: refund-large\n'),
    );
    const { status, body } = await admin.post<{ version: number; active: boolean; warnings: Warning[] }>('/v1/policies', { name: 'examples', files });
    expect(status).toBe(201);
    expect(body).toMatchObject({ version: 2, active: false });
    expect(body.warnings.map((w) => `${w.code} ${w.rule ?? w.tool} ${w.region?.map((c) => c.text).join(' and ') ?? ''}`)).toEqual([
      'shadowed_rule refund-wide ',
    ]);
    expect(body.warnings[0]?.message).toBe('rule refund-wide (allow) never decides: wherever it matches, refund-medium or refund-large decides');
    expect((await admin.get<{ version: number }>('/v1/policies/2')).body.version).toBe(2);
  });

  it('still answers 422 with the errors for a bundle that does not load', async () => {
    const files = withSupport((text) => text.replace('when: args.amount <= 50', 'when: args.amount <= "fifty"'));
    const { status, body } = await admin.post<{ error: { code: string; errors: { code: string }[] } }>('/v1/policies/validate', { name: 'examples', files });
    expect(status).toBe(422);
    expect(body.error.code).toBe('invalid_policy');
    expect(body.error.errors[0]?.code).toBe('cel_type');
  });
});
