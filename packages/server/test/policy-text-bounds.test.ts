import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_POLICY_FILE_CHARS } from '../src/routes/policies.js';
import type { Person } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

interface Source {
  file: string;
  text: string;
}
type Invalid = { error: { code: string; errors: { code: string; message: string }[] } };

/**
 * What a policy author's text may make the server do (docs/policy-format.md): a file past the size
 * bound is refused unread; thousands of keys are read in linear time; brackets nested past 64 are
 * refused before parsing; a draft cannot raise its evaluation budgets past the ceiling. Each alone,
 * and 100 at once, with the server answering a health check in between.
 */
describe('policy text bounds', () => {
  let t: TestServer;
  let admin: Person;
  let seed: Source[];
  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.admin();
    seed = (await admin.get<{ sources: Source[] }>('/v1/policies/1')).body.sources;
  });
  afterAll(async () => {
    await t?.dispose();
  });

  const withExtra = (extra: string): Source[] => seed.map((s) => (s.file === 'customer-support.yaml' ? { ...s, text: `${s.text}\n${extra}\n` } : s));
  const validate = (files: Source[]) => admin.post<Invalid>('/v1/policies/validate', { files });
  const keys = (n: number) => Array.from({ length: n }, (_, i) => `k${i}: v`).join('\n');

  it('refuses a file past the size bound without reading it', async () => {
    const { status, body } = await validate(withExtra(`description2: "${'x'.repeat(MAX_POLICY_FILE_CHARS)}"`));
    expect(status).toBe(400);
    expect(JSON.stringify(body)).toContain(`a policy file of at most ${MAX_POLICY_FILE_CHARS} characters`);
  });

  it('reads 20,000 keys and refuses 100,000 nested brackets, each once and 100 times at once', async () => {
    const many = await validate(withExtra(keys(20_000)));
    expect(many.status).toBe(422);
    expect(many.body.error.errors[0]?.code).toBe('invalid_policy');
    const deep = withExtra(`x: ${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    const refused = await validate(deep);
    expect(refused.status).toBe(422);
    expect(refused.body.error.errors[0]?.message).toContain('nested more than 64 deep');

    const health = fetch(`${t.url}/healthz`).then((r) => r.status);
    const burst = await Promise.all(Array.from({ length: 100 }, (_, i) => validate(i % 2 === 0 ? deep : withExtra(keys(2_000)))));
    expect(await health).toBe(200);
    for (const [i, reply] of burst.entries()) {
      expect(reply.status).toBe(422);
      expect(reply.body.error.errors[0]?.code).toBe(i % 2 === 0 ? 'yaml_syntax' : 'invalid_policy');
    }
  });

  it('refuses a draft that raises its evaluation budget past the ceiling', async () => {
    const raised = await validate(seed.map((s) => (s.file === 'customer-support.yaml' ? { ...s, text: s.text.replace('default: block\n', 'default: block\nevaluation: { maxExpressionCost: 1000000000000, maxDecisionCost: 1000000000000 }\n') } : s)));
    expect(raised.status).toBe(422);
    expect(raised.body.error.errors.map((e) => e.code)).toEqual(['invalid_policy', 'invalid_policy']);
  });
});
