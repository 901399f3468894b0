import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Person } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';
import { dropSchema, uniqueName } from './support/shared-services.js';
import { serverStores } from './support/stores.js';

interface Source {
  file: string;
  text: string;
}
interface Problem {
  code: string;
  file: string;
  line: number | null;
  column: number | null;
  path: string | null;
  message: string;
  detail?: string;
}
type Invalid = { error: { code: string; errors: Problem[] } };

describe.each(serverStores)('policy diagnostics and version notes on $name', ({ name, options }) => {
  let t: TestServer;
  let admin: Person;
  let seed: Source[];
  const schema = uniqueName('notes');
  beforeAll(async () => {
    t = await startTestServer(options(schema));
    admin = await t.admin();
    seed = (await admin.get<{ sources: Source[] }>('/v1/policies/1')).body.sources;
  });
  afterAll(async () => {
    await t?.dispose();
    if (name === 'PostgreSQL') await dropSchema(schema);
  });

  const support = (): string => (seed.find((s) => s.file === 'customer-support.yaml') as Source).text;
  const withSupport = (text: string): Source[] => seed.map((s) => (s.file === 'customer-support.yaml' ? { ...s, text } : s));
  const lineOf = (needle: string): number => support().split('\n').findIndex((l) => l.includes(needle)) + 1;

  it('one broken YAML line answers one problem at that line and column, with the parser text as detail', async () => {
    const line = lineOf('default: block');
    const { status, body } = await admin.post<Invalid>('/v1/policies/validate', { files: withSupport(support().replace('default: block', 'default block')) });
    expect(status).toBe(422);
    expect(body.error.errors).toHaveLength(1);
    expect(body.error.errors[0]).toMatchObject({ code: 'yaml_syntax', file: 'customer-support.yaml', line, column: 1, detail: 'Implicit keys need to be on a single line' });
  });

  it('a CEL type error answers a plain message at the column of the quoted number, alone and 100 at once', async () => {
    const line = lineOf('when: args.amount <= 50');
    const files = withSupport(support().replace('when: args.amount <= 50', 'when: args.amount > "50"'));
    const expected = {
      code: 'cel_type',
      file: 'customer-support.yaml',
      line,
      column: 25,
      path: 'rules[2].when',
      detail: 'no such overload: double > string',
      message: expect.stringContaining('args.amount is a number but is compared with a string "50"; write 50 without quotes') as unknown,
    };
    const alone = await admin.post<Invalid>('/v1/policies/validate', { files });
    expect(alone.status).toBe(422);
    expect(alone.body.error.errors).toEqual([expect.objectContaining(expected)]);
    const many = await Promise.all(Array.from({ length: 100 }, () => admin.post<Invalid>('/v1/policies/validate', { files })));
    for (const reply of many) expect(reply.body.error.errors).toEqual([expect.objectContaining(expected)]);
  });

  it('stores a note with each version, lists it and audits it; a version without a note has none', async () => {
    const files = withSupport(support().replace('max: 100\n', 'max: 90\n'));
    const noted = await admin.post<{ version: number; note?: string }>('/v1/policies', { name: 'examples', files, note: '  Refund budget down to $90 after INC-7  ' });
    expect(noted.status).toBe(201);
    expect(noted.body.note).toBe('Refund budget down to $90 after INC-7');
    const plain = await admin.post<{ version: number; note?: string }>('/v1/policies', { name: 'examples', files: withSupport(support().replace('max: 100\n', 'max: 80\n')) });
    expect(plain.status).toBe(201);
    expect(plain.body).not.toHaveProperty('note');

    const list = await admin.get<{ versions: { version: number; note?: string }[] }>('/v1/policies');
    expect(list.body.versions.find((v) => v.version === noted.body.version)?.note).toBe('Refund budget down to $90 after INC-7');
    expect(list.body.versions.find((v) => v.version === plain.body.version)).not.toHaveProperty('note');
    expect((await admin.get<{ note?: string }>(`/v1/policies/${noted.body.version}`)).body.note).toBe('Refund budget down to $90 after INC-7');

    const audit = await admin.get<{ records: { data: { version: number; note?: string } }[] }>('/v1/audit?type=policy.uploaded');
    expect(audit.body.records.find((r) => r.data.version === noted.body.version)?.data.note).toBe('Refund budget down to $90 after INC-7');

    // Twenty notes at once: each version keeps its own.
    const uploads = await Promise.all(
      Array.from({ length: 20 }, (_, i) => admin.post<{ version: number; note?: string }>('/v1/policies', { name: 'examples', files: withSupport(support().replace('max: 100\n', `max: ${101 + i}\n`)), note: `note ${i}` })),
    );
    const after = await admin.get<{ versions: { version: number; note?: string }[] }>('/v1/policies');
    for (const upload of uploads) expect(after.body.versions.find((v) => v.version === upload.body.version)?.note).toBe(upload.body.note);
    expect(new Set(uploads.map((u) => u.body.version)).size).toBe(20);
  });

  it('refuses a note over 2,000 characters', async () => {
    const { status } = await admin.post('/v1/policies', { name: 'examples', files: seed, note: 'x'.repeat(2001) });
    expect(status).toBe(400);
  });
});
