import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { policyTestCommand } from '../src/commands/policy-test.js';

const root = mkdtempSync(join(tmpdir(), 'airlock-policy-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A copy of the seed policies with one suite of our own beside them. */
function bundleWithSuite(name: string, suite: string): string {
  const dir = join(root, name);
  cpSync('examples/policies', dir, { recursive: true, filter: (source) => !source.includes('/tests') });
  mkdirSync(join(dir, 'tests'));
  writeFileSync(join(dir, 'tests', 'refunds.yaml'), suite);
  return join(dir, 'tests');
}

async function policyTest(dir: string, verbose = false): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (into: string[]): Writable =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        into.push(chunk.toString());
        done();
      },
    });
  const code = await policyTestCommand(dir, { verbose }, { stdout: sink(out), stderr: sink(err) });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const suite = (expectSmall: string): string => `suite: refunds
defaults: { agent: bot, role: support }
cases:
  - name: small refund
    request: { tool: issue_refund, args: { account_id: A-1, amount: 50, currency: USD } }
    expect: ${expectSmall}
  - name: large refund
    request: { tool: issue_refund, args: { account_id: A-1, amount: 500.01, currency: USD } }
    expect: { effect: block, rule: refund-large }
`;

describe('airlock policy test', () => {
  it('exits 0 with one line per suite and the summary when every case passes', async () => {
    const run = await policyTest(bundleWithSuite('pass', suite('{ effect: allow, rule: refund-small }')));
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^PASS {2}refunds {2}\(.*refunds\.yaml, 2 cases\)$/);
    expect(lines[1]).toBe('2 passed, 0 failed');
    expect(run.stderr).toBe('');
  });

  it('lists passing cases with --verbose', async () => {
    const run = await policyTest(bundleWithSuite('verbose', suite('{ effect: allow }')), true);
    expect(run.stdout).toContain('✓ small refund');
    expect(run.stdout).toContain('✓ large refund');
  });

  it('exits 1 and shows expected against actual, the request and the reason for a failing case', async () => {
    const run = await policyTest(bundleWithSuite('fail', suite('{ effect: require_approval, rule: refund-medium }')));
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^FAIL {2}refunds {2}\(.*refunds\.yaml, 1 of 2 cases failed\)$/m);
    expect(run.stdout).toMatch(/✗ small refund {2}\(.*refunds\.yaml:4\)/);
    expect(run.stdout).toContain('expected  effect=require_approval  rule=refund-medium  code=none');
    expect(run.stdout).toContain('actual    effect=allow  rule=refund-small  code=none    (differs: effect, rule)');
    expect(run.stdout).toContain('request   {"agent":"bot","role":"support","tool":"issue_refund","args":{"account_id":"A-1","amount":50,"currency":"USD"}}');
    expect(run.stdout).toMatch(/reason {4}\S/);
    expect(run.stdout).not.toContain('large refund');
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('1 passed, 1 failed');
  });

  it('exits 2 naming file and line for an invalid suite, before running anything', async () => {
    const run = await policyTest(bundleWithSuite('bad-suite', suite('{ effect: allow, rul: refund-small }')));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/refunds\.yaml:6 \(cases\[0\]\.expect\): invalid_suite: /);
    expect(run.stdout).toBe('');
  });

  it('exits 2 naming the bundle, file and line for a policy that does not load', async () => {
    const tests = bundleWithSuite('bad-policy', suite('{ effect: allow }'));
    writeFileSync(join(tests, '..', 'broken.yaml'), 'policy: broken\nappliesTo: { roles: [x] }\ntools: {}\nrules:\n  - id: r\n    tool: nothing\n    effect: allow\n');
    const run = await policyTest(tests);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('invalid policy bundle');
    expect(run.stderr).toContain('broken.yaml:6 (rules[0].tool): unknown_tool_reference');
    expect(run.stdout).toBe('');
  });

  it('exits 2 for a directory without suites', async () => {
    const empty = join(root, 'empty');
    mkdirSync(empty);
    const run = await policyTest(empty);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no_suites');
  });
});
