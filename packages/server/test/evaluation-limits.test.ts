import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Person } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

/**
 * Hostile input (issue 18): neither a policy nor an agent's arguments can stall the fleet. A
 * policy whose estimated cost is over budget is refused at upload; a decision that spends past
 * its budget is blocked with `evaluation_limit` (and audited) within milliseconds; `matches` runs
 * RE2, linear in the subject.
 */

interface Source {
  file: string;
  text: string;
}

interface LoadErrorBody {
  error: { code: string; errors: { code: string; file: string; line: number; path: string; message: string }[] };
}

const TOOLS = `tools:
  screen_text:
    description: Screens a text with a pattern the agent chooses.
    args:
      subject: { type: string, maxLength: 4000 }
      pattern: { type: string, maxLength: 8 }
  check_subject:
    description: Checks a long subject line.
    args:
      subject: { type: string, maxLength: 100000 }
  check_code:
    description: Checks a code against a careless argument pattern.
    args:
      code: { type: string, pattern: "^(a+)+$" }
`;
const RULES = `rules:
  - id: screened
    tool: screen_text
    when: args.subject.matches(args.pattern)
    effect: block
  - id: all-a
    tool: check_subject
    when: args.subject.matches("^(a+)+$")
    effect: block
  - id: subject-ok
    tool: check_subject
    effect: allow
  - id: code-ok
    tool: check_code
    effect: allow
`;

describe('bounded evaluation on the server', () => {
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
  const lineOf = (files: Source[], needle: string): number => (files.find((s) => s.file === 'customer-support.yaml') as Source).text.split('\n').findIndex((l) => l.includes(needle)) + 1;

  it('refuses a comprehension bomb at upload and validation with 422, its code, line and estimated cost', async () => {
    const bomb = 'args.ids.all(a, args.ids.all(b, args.ids.all(c, args.ids.all(d, a + b + c + d != ""))))';
    const files = withSupport((text) =>
      text
        .replace('tools:\n', 'tools:\n  tag_accounts:\n    args:\n      ids: { type: array, items: { type: string } }\n')
        .replace('rules:\n', `rules:\n  - id: tag-bomb\n    tool: tag_accounts\n    when: ${bomb}\n    effect: allow\n`),
    );
    const line = lineOf(files, bomb);
    for (const route of ['/v1/policies', '/v1/policies/validate']) {
      const { status, body } = await admin.post<LoadErrorBody>(route, { name: 'examples', files });
      expect(status, route).toBe(422);
      expect(body.error.errors).toEqual([
        expect.objectContaining({ code: 'cel_cost_exceeded', file: 'customer-support.yaml', line, path: 'rules[0].when' }),
      ]);
      expect(body.error.errors[0]?.message).toMatch(/^rule 'tag-bomb': .* estimated cost of \d\.\de\+2\d, over the per-expression budget of 100,000/);
    }
    expect((await admin.get<{ versions: unknown[] }>('/v1/policies')).body.versions).toHaveLength(1);
  });

  it('refuses a pattern RE2 rejects at upload, naming the rule and line', async () => {
    const files = withSupport((text) =>
      text.replace('tools:\n', 'tools:\n  echo:\n    args:\n      s: { type: string, maxLength: 64 }\n').replace('rules:\n', 'rules:\n  - id: echo-twice\n    tool: echo\n    when: args.s.matches("(a)\\\\1")\n    effect: allow\n'),
    );
    const { status, body } = await admin.post<LoadErrorBody>('/v1/policies/validate', { files });
    expect(status).toBe(422);
    expect(body.error.errors[0]).toMatchObject({ code: 'cel_unsupported', file: 'customer-support.yaml', line: lineOf(files, 'args.s.matches') });
    expect(body.error.errors[0]?.message).toMatch(/^rule 'echo-twice': invalid regular expression for matches\(\) \(RE2 syntax\)/);
  });

  it('refuses an argument pattern RE2 rejects at upload, naming the tool, field and line', async () => {
    const files = withSupport((text) => text.replace('tools:\n', 'tools:\n  echo:\n    args:\n      s: { type: string, pattern: "^(a)\\\\1$" }\n'));
    const { status, body } = await admin.post<LoadErrorBody>('/v1/policies/validate', { files });
    expect(status).toBe(422);
    expect(body.error.errors).toEqual([
      expect.objectContaining({ code: 'invalid_args_schema', file: 'customer-support.yaml', line: lineOf(files, 'pattern: "^(a)'), path: 'tools.echo.args.s.pattern' }),
    ]);
  });

  describe('with a policy accepted under the estimate', () => {
    beforeAll(async () => {
      const files = withSupport((text) => text.replace('tools:\n', TOOLS).replace('rules:\n', RULES));
      const uploaded = await admin.post<{ version: number }>('/v1/policies', { name: 'examples', files });
      expect(uploaded.status).toBe(201);
      expect((await admin.post(`/v1/policies/${uploaded.body.version}/activate`)).status).toBe(200);
    });

    const healthz = async (): Promise<number> => {
      const started = performance.now();
      const reply = await fetch(`${t.url}/healthz`);
      expect(reply.status).toBe(200);
      return performance.now() - started;
    };

    it('decides a catastrophic-backtracking pattern over a 100,000-character argument without backtracking (a hang bound, not a speed target)', async () => {
      const support = t.agent('support-bot-1');
      await support.post('/v1/decide', { tool: 'check_subject', args: { subject: 'aab' } });
      for (const [subject, effect] of [[`${'a'.repeat(99_999)}b`, 'allow'], ['a'.repeat(100_000), 'block']] as const) {
        const started = performance.now();
        const { body } = await support.post<{ effect: string; error?: unknown }>('/v1/decide', { tool: 'check_subject', args: { subject } });
        expect(performance.now() - started).toBeLessThan(2000);
        expect(body).toMatchObject({ effect });
        expect(body.error).toBeUndefined();
      }
    });

    it('decides an argument schema pattern that backtracks catastrophically over 100,000 characters without backtracking (a hang bound, not a speed target), alone and 100 at once', async () => {
      const support = t.agent('support-bot-1');
      // Warm up: the first failure compiles ajv's validator.
      await support.post('/v1/decide', { tool: 'check_code', args: { code: 'aa!' } });
      const bad = `${'a'.repeat(99_999)}!`;
      for (const [code, effect] of [[bad, 'block'], ['a'.repeat(100_000), 'allow']] as const) {
        const started = performance.now();
        const { body } = await support.post<{ effect: string; error?: { code: string } }>('/v1/decide', { tool: 'check_code', args: { code } });
        expect(performance.now() - started).toBeLessThan(2000);
        expect(body.effect).toBe(effect);
        if (effect === 'block') expect(body.error?.code).toBe('invalid_arguments');
      }
      const calls = Array.from({ length: 100 }, () => support.post<{ error?: { code: string } }>('/v1/decide', { tool: 'check_code', args: { code: bad } }));
      const health = await healthz();
      const replies = await Promise.all(calls);
      expect(replies.map((r) => r.body.error?.code)).toEqual(replies.map(() => 'invalid_arguments'));
      // With backtracking one of these would hold the loop for longer than the universe is old.
      expect(health).toBeLessThan(2000);
    });

    it('stops a decision whose run-time pattern would run long with evaluation_limit, audits it, and /healthz stays fast', async () => {
      const support = t.agent('support-bot-1');
      // `\pL{999}` fits the 8 characters the schema allows, but its RE2 program weighs ~680,000
      // units: over 4,000 characters RE2 would hold the event loop for about half a second.
      const call = { tool: 'screen_text', args: { subject: 'a'.repeat(4000), pattern: '\\pL{999}' } };
      const started = performance.now();
      const { body } = await support.post<{ effect: string; decidedBy: string; error?: { code: string } }>('/v1/decide', call);
      expect(performance.now() - started).toBeLessThan(2000);
      expect(body).toMatchObject({ effect: 'block', decidedBy: 'error', error: { code: 'evaluation_limit' } });
      // An ordinary pattern over the same subject decides as written.
      expect((await support.post('/v1/decide', { ...call, args: { ...call.args, pattern: '^a+$' } })).body).toMatchObject({ effect: 'block', rule: 'screened' });

      const audit = await admin.get<{ records: { effect: string; data: { decision: { error?: { code: string } } } }[] }>('/v1/audit?tool=screen_text&effect=block');
      expect(audit.body.records.map((r) => r.data.decision.error?.code)).toContain('evaluation_limit');

      // 100 at once: each is stopped before it runs, so /healthz never waits behind them.
      const calls = Array.from({ length: 100 }, () => support.post<{ error?: { code: string } }>('/v1/decide', call));
      const health = await healthz();
      const replies = await Promise.all(calls);
      expect(replies.map((r) => r.body.error?.code)).toEqual(replies.map(() => 'evaluation_limit'));
      // Unmetered, these 100 decisions would hold the loop for about a minute.
      expect(health).toBeLessThan(2000);
      expect(await healthz()).toBeLessThan(1000);
    });
  });
});
