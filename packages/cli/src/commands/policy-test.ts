import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import {
  formatLoadError,
  loadBundle,
  loadSuites,
  PolicyLoadError,
  runSuites,
  suiteBundlePath,
  SuiteLoadError,
  type CallResult,
  type CaseResult,
  type LoadedSuite,
  type SuiteResult,
} from '@airlock/core';

/**
 * `airlock policy test <dir>`: runs the YAML policy test suites in a directory (or one suite file)
 * against the bundles they name. Exit 0 when every case passes, 1 when any fails, 2 when a suite
 * or a bundle does not load.
 */

export interface PolicyTestOptions {
  /** List passing cases too, not only failing ones. */
  verbose?: boolean;
}

export async function policyTestCommand(dir: string, options: PolicyTestOptions, io: { stdout: Writable; stderr: Writable }): Promise<number> {
  let suites: LoadedSuite[];
  try {
    suites = loadSuites(dir);
  } catch (error) {
    if (!SuiteLoadError.isInstance(error)) throw error;
    io.stderr.write(`airlock: invalid test suite\n${error.errors.map((e) => `  ${formatLoadError(e)}\n`).join('')}`);
    return 2;
  }

  // Suites that name the same bundle share one load; each suite still runs from empty limit state.
  const groups = new Map<string, { path: string; suites: LoadedSuite[] }>();
  for (const loaded of suites) {
    const path = suiteBundlePath(loaded);
    const group = groups.get(resolve(path)) ?? { path, suites: [] };
    group.suites.push(loaded);
    groups.set(resolve(path), group);
  }

  const results: SuiteResult[] = [];
  for (const group of groups.values()) {
    try {
      results.push(...(await runSuites(loadBundle(group.path), group.suites)));
    } catch (error) {
      if (!PolicyLoadError.isInstance(error)) throw error;
      const users = group.suites.map((s) => s.file).join(', ');
      io.stderr.write(
        `airlock: invalid policy bundle ${group.path} (tested by ${users})\n${error.errors.map((e) => `  ${formatLoadError(e)}\n`).join('')}`,
      );
      return 2;
    }
  }

  // Report in the order the suites were read, whatever bundle they belong to.
  const order = new Map(suites.map((s, i) => [s.file, i]));
  results.sort((a, b) => (order.get(a.file) ?? 0) - (order.get(b.file) ?? 0));
  let passed = 0;
  let failed = 0;
  for (const result of results) {
    io.stdout.write(suiteLine(result));
    for (const testCase of result.cases) {
      if (!testCase.passed) io.stdout.write(failureReport(result, testCase));
      else if (options.verbose) io.stdout.write(`    ✓ ${testCase.name}\n`);
    }
    passed += result.passed;
    failed += result.failed;
  }
  io.stdout.write(`${passed} passed, ${failed} failed\n`);
  return failed > 0 ? 1 : 0;
}

function suiteLine(result: SuiteResult): string {
  const total = result.cases.length;
  const cases = `${total} case${total === 1 ? '' : 's'}`;
  return result.failed === 0
    ? `PASS  ${result.suite}  (${result.file}, ${cases})\n`
    : `FAIL  ${result.suite}  (${result.file}, ${result.failed} of ${cases} failed)\n`;
}

function failureReport(result: SuiteResult, testCase: CaseResult): string {
  const call = testCase.last;
  const where = testCase.line === undefined ? result.file : `${result.file}:${testCase.line}`;
  const lines = [
    `    ✗ ${testCase.name}  (${[where, ...position(testCase)].join(', ')})`,
    `        expected  ${describeExpected(call)}`,
    `        actual    ${describeActual(call)}`,
    `        request   ${JSON.stringify(call.request)}`,
    `        reason    ${call.reason}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** Which call failed, when the case makes more than one. */
function position(testCase: CaseResult): string[] {
  const call = testCase.last;
  const parts: string[] = [];
  if (testCase.steps > 1) parts.push(`step ${call.step} of ${testCase.steps}`);
  if (call.repeat > 1) parts.push(`call ${call.repetition} of ${call.repeat}`);
  return parts;
}

/** Only the fields the case checks; `code` is always checked (absent means "no error"). */
function describeExpected(call: CallResult): string {
  const { effect, rule, code, approval } = call.expected;
  const parts = [`effect=${effect}`];
  if (rule !== undefined) parts.push(`rule=${rule ?? 'null'}`);
  parts.push(`code=${code ?? 'none'}`);
  if (approval) parts.push(`approval=${describeRoute(approval)}`);
  return parts.join('  ');
}

function describeActual(call: CallResult): string {
  const { effect, rule, code, approval } = call.actual;
  const parts = [`effect=${effect}`, `rule=${rule ?? 'null'}`, `code=${code ?? 'none'}`];
  if (call.expected.approval) parts.push(`approval=${approval ? describeRoute(approval) : 'none'}`);
  return `${parts.join('  ')}    (differs: ${call.mismatched.join(', ')})`;
}

/** `tier lead: 1 of [support-leads]`, with only the fields given. */
function describeRoute(route: { tier?: string; approvers?: string[]; required?: number }): string {
  const parts: string[] = [];
  if (route.tier !== undefined) parts.push(`tier ${route.tier}`);
  if (route.required !== undefined) parts.push(`${route.required} of`);
  if (route.approvers !== undefined) parts.push(`[${route.approvers.join(', ')}]`);
  return parts.join(' ');
}
