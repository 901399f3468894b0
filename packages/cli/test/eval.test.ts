import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The contract is `npx airlock eval` from the repository root: run the built binary the same way.
const BIN = 'packages/cli/bin/airlock.js';
const dir = mkdtempSync(join(tmpdir(), 'airlock-eval-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function airlock(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const lines = (stdout: string): Record<string, unknown>[] =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

const refund = (amount: unknown, at: string, account = 'A-1'): string =>
  JSON.stringify({ agent: 'bot', role: 'support', environment: 'production', tool: 'issue_refund', args: { account_id: account, amount, currency: 'USD' }, at });

describe('airlock eval', () => {
  it('answers one JSON decision per line, in order, keeping limit state across lines', () => {
    const input = [
      refund(45, '2026-11-23T10:00:00Z'),
      refund(45, '2026-11-23T11:00:00Z'),
      refund(45, '2026-11-23T12:00:00Z'),
      refund(45, '2026-11-24T10:00:01Z'),
    ].join('\n');
    const run = airlock(['eval', '--policy', 'examples/policies'], input);
    expect(run.status).toBe(0);
    expect(lines(run.stdout).map((d) => [d.effect, d.rule])).toEqual([
      ['allow', 'refund-small'],
      ['allow', 'refund-small'],
      ['require_approval', 'refund-budget'],
      // 24 h after the first: the first has left the window, 45 + 45 + 45 = 135 > 100 still.
      ['require_approval', 'refund-budget'],
    ]);
    for (const decision of lines(run.stdout)) expect(typeof decision.reason).toBe('string');
  });

  it('answers a malformed line with invalid_request and goes on', () => {
    const input = ['{not json', '[]', JSON.stringify({ role: 'support', tool: 'get_account' }), '', refund(10, '2026-11-23T10:00:00Z')].join('\n');
    const run = airlock(['eval', '--policy', 'examples/policies'], input);
    expect(run.status).toBe(0);
    const out = lines(run.stdout);
    expect(out).toHaveLength(4);
    for (const bad of out.slice(0, 3)) {
      expect(bad).toMatchObject({ effect: 'block', error: { code: 'invalid_request' } });
      expect(typeof (bad.error as { message: unknown }).message).toBe('string');
    }
    expect(out[3]).toMatchObject({ effect: 'allow', rule: 'refund-small' });
  });

  it('answers a line nested 100,000 levels with request_too_large, in any field, and goes on', () => {
    const arrays = '['.repeat(100_000) + ']'.repeat(100_000);
    const objects = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000);
    const call = (tool: string, args: string): string => `{"agent":"bot","role":"workflow","tool":${JSON.stringify(tool)},"args":${args}}`;
    const input = [
      // An open map (`fields: { type: object }`) of a closed schema: this one was allowed.
      call('create_record', `{"system":"crm","object":"contact","fields":${objects}}`),
      call('create_record', `{"system":"crm","object":"contact","fields":{"list":${arrays}}}`),
      `{"agent":"bot","role":"support","tool":${arrays}}`,
      arrays,
      refund(10, '2026-11-23T10:00:00Z'),
    ].join('\n');
    const run = airlock(['eval', '--policy', 'examples/policies'], input);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    const out = lines(run.stdout);
    expect(out).toHaveLength(5);
    for (const [i, deep] of out.slice(0, 4).entries()) expect(deep).toMatchObject({ effect: 'block', error: { code: 'request_too_large', line: i + 1 } });
    expect(out[4]).toMatchObject({ effect: 'allow', rule: 'refund-small' });
  });

  it('answers a line naming a key twice with invalid_request naming it, escaped spellings included, and goes on', () => {
    const input = [
      '{"agent":"bot","role":"support","tool":"issue_refund","args":{"account_id":"A-1","currency":"USD","amount":20,"amount":900}}',
      '{"agent":"bot","role":"support","tool":"issue_refund","args":{"account_id":"A-1","currency":"USD","amount":20,"am\\u006funt":900}}',
      '{"agent":"bot","role":"support","tool":"get_account","args":{"account_id":"A-1"},"role":"devops"}',
      refund(10, '2026-11-23T10:00:00Z'),
    ].join('\n');
    const run = airlock(['eval', '--policy', 'examples/policies'], input);
    expect(run.status).toBe(0);
    const out = lines(run.stdout);
    expect(out).toHaveLength(4);
    for (const [i, path] of ['args.amount', 'args.amount', 'role'].entries()) {
      expect(out[i]).toMatchObject({ effect: 'block', error: { code: 'invalid_request', line: i + 1 } });
      expect((out[i]?.error as { message: string }).message).toContain(`duplicate key`);
      expect((out[i]?.error as { message: string }).message).toContain(` at ${path}`);
    }
    expect(out[3]).toMatchObject({ effect: 'allow', rule: 'refund-small' });
  });

  it('reads --input instead of stdin', () => {
    const file = join(dir, 'calls.jsonl');
    writeFileSync(file, `${refund(500, '2026-11-23T10:00:00Z', 'B')}\n${refund(500.01, '2026-11-23T10:00:00Z', 'C')}\n`);
    const run = airlock(['eval', '--policy', 'examples/policies', '--input', file]);
    expect(run.status).toBe(0);
    expect(lines(run.stdout).map((d) => d.effect)).toEqual(['require_approval', 'block']);
  });

  it('exits non-zero naming file and line for an invalid policy', () => {
    const policy = join(dir, 'broken.yaml');
    writeFileSync(
      policy,
      'policy: broken\nappliesTo: { roles: [support] }\ntools:\n  t:\n    args: { n: { type: number } }\nrules:\n  - id: r\n    tool: t\n    when: args.n > "x"\n    effect: allow\n',
    );
    const run = airlock(['eval', '--policy', policy], '');
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('broken.yaml:9');
    expect(run.stderr).toContain('cel_type');
    expect(run.stdout).toBe('');
  });

  it('exits non-zero for a missing policy path and for a missing --policy flag', () => {
    expect(airlock(['eval', '--policy', join(dir, 'nope')], '').status).not.toBe(0);
    const missing = airlock(['eval'], '');
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('--policy');
  });
});
