import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/program.js';

const FIXTURES = 'packages/core/test/fixtures/policy-check';
const root = mkdtempSync(join(tmpdir(), 'airlock-policy-check-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A bundle directory holding the given fixture files. */
function bundleOf(name: string, files: string[]): string {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const file of files) copyFileSync(join(FIXTURES, file), join(dir, file));
  return dir;
}

async function airlock(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (into: string[]): Writable =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        into.push(chunk.toString());
        done();
      },
    });
  const code = await runCli(argv, { stdin: process.stdin, stdout: sink(out), stderr: sink(err) });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('airlock policy check', () => {
  it('reports nothing for the seed policies and exits 0, even with --fail-on info', async () => {
    const run = await airlock('policy', 'check', 'examples/policies', '--fail-on', 'info');
    expect(run).toEqual({ code: 0, stdout: '0 errors, 0 warnings, 0 info\n', stderr: '' });
  });

  it('prints the planted gap at exactly 50 with file:line, and the overlap, then a summary', async () => {
    const dir = bundleOf('gaps', ['planted-gap.yaml', 'overlap.yaml']);
    const run = await airlock('policy', 'check', dir);
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split('\n')).toEqual([
      'overlap.yaml:11 (rules[1]): warning overlapping_effects: make_payment: payment-wide (allow) overlaps payment-huge (block) on amount ∈ (500, ∞): block decides (payment-huge)',
      'planted-gap.yaml:8 (tools.issue_refund.args.amount): warning threshold_gap: issue_refund: amount = 50 matches no rule of policy planted-gap: its default (block) decides',
      '0 errors, 2 warnings, 0 info',
    ]);
  });

  it.each([
    ['planted-gap.yaml', 'error', 0],
    ['planted-gap.yaml', 'warning', 1],
    ['planted-gap.yaml', 'info', 1],
    ['opaque.yaml', 'warning', 0],
    ['opaque.yaml', 'info', 1],
  ])('%s with --fail-on %s exits %i', async (file, failOn, code) => {
    const run = await airlock('policy', 'check', join(FIXTURES, file), '--fail-on', failOn);
    expect(run.code).toBe(code);
  });

  it('exits 2 with every load error located, whatever --fail-on says', async () => {
    const dir = join(root, 'broken');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'p.yaml'),
      'policy: p\nappliesTo: { roles: [r] }\ntools:\n  refund:\n    args:\n      amount: { type: number }\nrules:\n  - { id: a, tool: refund, when: args.ammount > 5, effect: allow }\n  - { id: b, tool: get_*, effect: allow }\n',
    );
    const run = await airlock('policy', 'check', dir, '--fail-on', 'warning');
    expect(run.code).toBe(2);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^p\.yaml:8 \(rules\[0\]\.when\): error cel_type: /);
    expect(lines[1]).toBe("p.yaml:9 (rules[1].tool): error unknown_tool_reference: glob 'get_*' matches no declared tool");
    expect(lines[2]).toBe('2 errors, 0 warnings, 0 info');
  });

  it('exits 2 for a comprehension bomb, with its line, estimated cost and budget', async () => {
    const dir = join(root, 'bomb');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'p.yaml'),
      [
        'policy: p',
        'appliesTo: { roles: [r] }',
        'tools:',
        '  tag:',
        '    args:',
        '      ids: { type: array, items: { type: integer } }',
        'rules:',
        '  - id: bomb',
        '    tool: tag',
        '    when: args.ids.all(a, args.ids.all(b, args.ids.all(c, args.ids.all(d, a + b + c + d >= 0))))',
        '    effect: allow',
        '',
      ].join('\n'),
    );
    const run = await airlock('policy', 'check', dir);
    expect(run.code).toBe(2);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^p\.yaml:10 \(rules\[0\]\.when\): error cel_cost_exceeded: rule 'bomb': .* has an estimated cost of 7\.6e\+22, over the per-expression budget of 100,000 /);
    expect(lines[1]).toBe('1 error, 0 warnings, 0 info');
  });

  it('exits 2 for a path that does not exist', async () => {
    const run = await airlock('policy', 'check', join(root, 'missing'));
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/error io_error: /);
  });

  it('writes one JSON document with --json, coverage with --coverage', async () => {
    const run = await airlock('policy', 'check', join(FIXTURES, 'decimal-gap.yaml'), '--json', '--coverage');
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as {
      errors: unknown[];
      findings: { code: string; file: string; line: number; region: { kind: string; intervals: unknown[] }[] }[];
      coverage: { tool: string; regions: { text: string; status: string }[] }[];
      summary: unknown;
    };
    expect(doc.errors).toEqual([]);
    expect(doc.summary).toEqual({ errors: 0, warnings: 1, info: 0 });
    expect(doc.findings).toHaveLength(1);
    expect(doc.findings[0]).toMatchObject({ code: 'threshold_gap', file: 'decimal-gap.yaml', line: 8, severity: 'warning', effect: 'block' });
    expect(doc.findings[0]?.region).toEqual([
      { kind: 'range', arg: 'amount', path: ['amount'], measure: 'value', intervals: [{ min: 50, max: 50.01, minInclusive: false, maxInclusive: false }], text: 'amount ∈ (50, 50.01)' },
    ]);
    expect(doc.coverage[0]?.regions.map((r) => `${r.status} ${r.text}`)).toEqual(['covered amount ∈ [0, 50]', 'gap amount ∈ (50, 50.01)', 'covered amount ∈ [50.01, ∞)']);
  });

  it('shows coverage range by range', async () => {
    const run = await airlock('policy', 'check', join(FIXTURES, 'size-gap.yaml'), '--coverage');
    expect(run.stdout).toContain('workflow update_records  (environments: production, staging, dev, any other)\n');
    expect(run.stdout).toContain('    gap          size(ids) ∈ [2, 99]  →  block by the default of size-gap\n');
    expect(run.stdout).toContain('    covered      size(ids) = 1  →  allow by update-one\n');
  });

  it('rejects an unknown --fail-on value', async () => {
    const run = await airlock('policy', 'check', 'examples/policies', '--fail-on', 'loud');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/Allowed choices are warning, info, error/);
  });
});
