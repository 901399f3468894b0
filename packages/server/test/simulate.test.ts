import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, type Person } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

interface Source {
  file: string;
  text: string;
}

interface Report {
  calls: number;
  before: Record<string, number>;
  after: Record<string, number>;
  flipped: number;
  flips: { from: string; to: string; rule: string | null; count: number; examples: { id: string; request: { args: { amount: number } } }[] }[];
}

const refund = (account: string, amount: number) => ({ tool: 'issue_refund', args: { account_id: account, amount, currency: 'USD' } });

describe('POST /v1/policies/simulate', () => {
  let t: TestServer;
  let admin: Person;
  let seed: Source[];
  /** The seed bundle with customer-support.yaml edited by [from, to] replacements. */
  const edit = (...replacements: [string, string][]): Source[] =>
    seed.map((s) => {
      if (s.file !== 'customer-support.yaml') return s;
      let text = s.text;
      for (const [from, to] of replacements) {
        expect(text).toContain(from);
        text = text.replace(from, to);
      }
      return { file: s.file, text };
    });

  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.admin();
    seed = (await admin.get<{ sources: Source[] }>('/v1/policies/1')).body.sources;
    const support = t.agent('support-bot-1');
    // Recorded under version 1 (budget $100 per account per 24 h): all allowed.
    for (const [account, amount] of [['S-1', 30], ['S-1', 30], ['S-2', 20], ['S-1', 30]] as const) {
      expect((await support.post('/v1/decide', refund(account, amount))).body).toMatchObject({ effect: 'allow' });
      t.clock.advance(1000);
    }
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('replays the last N recorded decisions against a stricter budget and reports the flips', async () => {
    const files = edit(['max: 100\n', 'max: 40\n']);
    const { status, body } = await admin.post<{ mode: string; from: string; to: string; report: Report }>('/v1/policies/simulate', { files, last: 100 });
    expect(status).toBe(200);
    expect(body.mode).toBe('recorded');
    expect(body.report).toMatchObject({ calls: 4, before: { allow: 4, require_approval: 0, block: 0 }, after: { allow: 2, require_approval: 2, block: 0 }, flipped: 2 });
    expect(body.report.flips).toHaveLength(1);
    expect(body.report.flips[0]).toMatchObject({ from: 'allow', to: 'require_approval', rule: 'refund-budget', count: 2 });
    expect(body.report.flips[0]?.examples.map((e) => e.request.args.amount)).toEqual([30, 30]);
    expect(Date.parse(body.to) - Date.parse(body.from)).toBe(3000);
  });

  it('replays only the last N', async () => {
    const files = edit(['max: 100\n', 'max: 40\n']);
    // The last two: S-2 $20 (fine) and S-1 $30 with nothing else of S-1 in the replay (fine).
    const { body } = await admin.post<{ report: Report }>('/v1/policies/simulate', { files, last: 2 });
    expect(body.report).toMatchObject({ calls: 2, flipped: 0 });
  });

  it('decides a hand-written call with the active version and the draft, using the registered role', async () => {
    const files = edit(['when: args.amount <= 50\n', 'when: args.amount <= 100\n'], ['when: args.amount > 50 &&', 'when: args.amount > 100 &&']);
    const { status, body } = await admin.post<{ mode: string; current: { version: number; decision: { effect: string } }; candidate: { effect: string; rule: string }; flipped: boolean; request: { role: string } }>(
      '/v1/policies/simulate',
      { files, call: { agent: 'support-bot-1', ...refund('H-1', 75) } },
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({
      mode: 'call',
      request: { role: 'support', environment: 'production' },
      current: { version: 1, decision: { effect: 'require_approval', rule: 'refund-medium' } },
      candidate: { effect: 'allow', rule: 'refund-small' },
      flipped: true,
    });
  });

  it('refuses a hand-written call of an unregistered agent without a role', async () => {
    const { status, body } = await admin.post('/v1/policies/simulate', { files: seed, call: { agent: 'ghost', ...refund('H-1', 5) } });
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: { code: 'invalid_request', param: 'body.call.role' } });
  });

  it('does not touch live limit state', async () => {
    await admin.post('/v1/policies/simulate', { files: seed, last: 100 });
    await admin.post('/v1/policies/simulate', { files: seed, call: { agent: 'support-bot-1', ...refund('S-1', 30) } });
    // S-1 has $90 recorded; a $10 refund still fits the live $100 budget.
    expect((await t.agent('support-bot-1').post('/v1/decide', refund('S-1', 10))).body).toMatchObject({ effect: 'allow' });
  });

  it('answers an invalid draft with every error by file and line', async () => {
    const files = edit(['  - id: refund-small\n', '  - id: refund-small\n    bogus: [\n']);
    const { status, body } = await admin.post<{ error: { code: string; errors: { code: string; file: string; line: number }[] } }>('/v1/policies/simulate', { files, last: 10 });
    expect(status).toBe(422);
    expect(body.error.code).toBe('invalid_policy');
    expect(body.error.errors[0]).toMatchObject({ code: 'yaml_syntax', file: 'customer-support.yaml', line: expect.any(Number) });
  });

  it('needs exactly one of call and last', async () => {
    for (const extra of [{}, { last: 5, call: { agent: 'support-bot-1', ...refund('X', 1) } }, { last: 0 }, { last: 100_001 }]) {
      const { status, body } = await admin.post('/v1/policies/simulate', { files: seed, ...extra });
      expect(status, JSON.stringify(extra)).toBe(400);
      expect(body).toMatchObject({ error: { code: 'invalid_request' } });
    }
  });

  it('is for policy authors and admins only', async () => {
    for (const role of ['viewer', 'approver'] as const) {
      await admin.post('/v1/users', { username: `${role}-s`, password: 'a long password 123', role });
      const person = await signIn(t.url, `${role}-s`, 'a long password 123');
      expect((await person.post('/v1/policies/simulate', { files: seed, last: 1 })).status, role).toBe(403);
    }
    await admin.post('/v1/users', { username: 'author-s', password: 'a long password 123', role: 'policy-author' });
    const author = await signIn(t.url, 'author-s', 'a long password 123');
    expect((await author.post('/v1/policies/simulate', { files: seed, last: 1 })).status).toBe(200);
    expect((await t.agent('support-bot-1').post('/v1/policies/simulate', { files: seed, last: 1 })).status).toBe(403);
  });
});
