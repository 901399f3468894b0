import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { loadBundle, loadSuites, parseBundle, readPolicySources, runSuites, suiteBundlePath, type SuiteResult } from '@airlock/core';

/**
 * The seed policies are a contract (DESIGN.md, "The four seed scenarios"). Their suites must pass,
 * must notice the deletion of any rule or limit, and the CLI must answer the table's calls.
 */

const POLICIES = 'examples/policies';
const TESTS = `${POLICIES}/tests`;
const BIN = 'packages/cli/bin/airlock.js';

const suites = loadSuites(TESTS);
const sources = readPolicySources(POLICIES);

const failuresOf = (results: SuiteResult[]): string[] =>
  results.flatMap((suite) => suite.cases.filter((c) => !c.passed).map((c) => `${suite.suite}: ${c.name}`));

describe('the seed policy suites', () => {
  it('test the seed bundle', () => {
    for (const loaded of suites) expect(resolve(suiteBundlePath(loaded))).toBe(resolve(POLICIES));
  });

  it('state the deciding rule (or null) in every expectation', () => {
    const unstated = suites.flatMap(({ suite }) =>
      suite.cases.flatMap((c) => [...(c.steps ?? []), c].filter((s) => s.expect && s.expect.rule === undefined).map(() => `${suite.suite}: ${c.name}`)),
    );
    expect(unstated).toEqual([]);
  });

  it('all pass, with at least 100 cases', async () => {
    const results = await runSuites(loadBundle(POLICIES), suites);
    expect(failuresOf(results)).toEqual([]);
    expect(results.map((r) => r.suite).sort()).toEqual(['customer-support', 'devops', 'finance', 'saas-workflow']);
    expect(results.reduce((n, r) => n + r.cases.length, 0)).toBeGreaterThanOrEqual(100);
  });
});

interface Mutation {
  label: string;
  file: string;
  kind: 'rules' | 'limits';
  index: number;
  id: string;
}

const mutations: Mutation[] = sources.flatMap((source) => {
  const doc = parseDocument(source.text).toJS() as Record<'rules' | 'limits', { id: string }[] | undefined>;
  return (['rules', 'limits'] as const).flatMap((kind) =>
    (doc[kind] ?? []).map((item, index) => ({ label: `${kind === 'rules' ? 'rule' : 'limit'} ${item.id} (${source.file})`, file: source.file, kind, index, id: item.id })),
  );
});

describe('deleting any rule or limit of a seed policy fails a case', () => {
  it('covers every rule and limit of every seed policy, environment overrides included', () => {
    const ids = loadBundle(POLICIES).policies.flatMap(({ document: doc }) => [
      ...[...doc.rules, ...doc.limits].map((item) => item.id),
      ...Object.values(doc.environments).flatMap((env) => [...env.rules, ...env.limits].map((item) => item.id)),
    ]);
    expect(mutations.map((m) => m.id).sort()).toEqual(ids.sort());
    expect(new Set(mutations.map((m) => m.file))).toEqual(new Set(sources.map((s) => s.file)));
  });

  it.each(mutations)('$label', async ({ file, kind, index, id }) => {
    const mutated = sources.map((source) => {
      if (source.file !== file) return source;
      const doc = parseDocument(source.text);
      doc.deleteIn([kind, index]);
      return { file, text: doc.toString() };
    });
    const bundle = parseBundle(mutated, 'mutated');
    const remaining = bundle.policies.flatMap((p) => [...p.document.rules, ...p.document.limits].map((item) => item.id));
    expect(remaining, 'the mutation removed exactly that item').not.toContain(id);
    expect(remaining).toHaveLength(mutations.length - 1);

    const failures = failuresOf(await runSuites(bundle, suites));
    expect(failures.length, `no case fails when ${kind === 'rules' ? 'rule' : 'limit'} '${id}' (${file}) is deleted`).toBeGreaterThan(0);
  });
});

interface Expected {
  effect: string;
  rule: string | null;
  error?: { code: string };
}

describe('the DESIGN.md seed table through the real CLI', () => {
  it('airlock eval answers examples/calls.jsonl as examples/calls.expected.jsonl says', () => {
    const run = spawnSync(process.execPath, [BIN, 'eval', '--policy', POLICIES, '--input', 'examples/calls.jsonl'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const input = readFileSync('examples/calls.jsonl', 'utf8').trimEnd().split('\n');
    const expected = readFileSync('examples/calls.expected.jsonl', 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Expected);
    const actual = run.stdout
      .trimEnd()
      .split('\n')
      .map((line) => {
        const decision = JSON.parse(line) as Expected & { error?: { code: string } };
        return { effect: decision.effect, rule: decision.rule, ...(decision.error ? { error: { code: decision.error.code } } : {}) };
      });
    expect(expected).toHaveLength(input.length);
    expect(actual).toHaveLength(input.length);
    const mismatches = actual.flatMap((decision, i) =>
      JSON.stringify(decision) === JSON.stringify(expected[i])
        ? []
        : [`line ${i + 1}: ${input[i]}\n  expected ${JSON.stringify(expected[i])}\n  actual   ${JSON.stringify(decision)}`],
    );
    expect(mismatches).toEqual([]);
  });

  it('airlock policy test passes the seed suites and ends with the summary line', () => {
    const run = spawnSync(process.execPath, [BIN, 'policy', 'test', TESTS], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const summary = run.stdout.trimEnd().split('\n').at(-1) ?? '';
    expect(summary).toMatch(/^\d+ passed, 0 failed$/);
    expect(Number(summary.split(' ')[0])).toBeGreaterThanOrEqual(100);
  });

  it('airlock policy check finds no gap, overlap, shadowed or unreachable rule in the seeds', () => {
    const run = spawnSync(process.execPath, [BIN, 'policy', 'check', POLICIES, '--fail-on', 'info'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('0 errors, 0 warnings, 0 info\n');
    expect(run.status).toBe(0);
  });
});
