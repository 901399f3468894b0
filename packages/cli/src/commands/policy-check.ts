import { basename } from 'node:path';
import type { Writable } from 'node:stream';
import {
  checkSources,
  formatFinding,
  PolicyLoadError,
  readPolicySources,
  SEVERITIES,
  type PolicyCheck,
  type Severity,
  type ToolCoverage,
} from '@airlock/core';

/**
 * `airlock policy check <dir>`: static analysis of a bundle (docs/policy-check.md). Prints every
 * load error and finding as `file:line (path): severity code: message`, or one JSON document with
 * `--json`. Exit 2 when the bundle has errors, 1 when a finding reaches `--fail-on`, else 0.
 */

export interface PolicyCheckOptions {
  json?: boolean;
  /** The least severe finding that fails the run; errors always do. */
  failOn?: Severity;
  /** Also print how every tool's calls are decided. */
  coverage?: boolean;
}

export async function policyCheckCommand(path: string, options: PolicyCheckOptions, io: { stdout: Writable; stderr: Writable }): Promise<number> {
  let check: PolicyCheck;
  try {
    check = checkSources(readPolicySources(path), basename(path).replace(/\.ya?ml$/i, ''));
  } catch (error) {
    if (!PolicyLoadError.isInstance(error)) throw error;
    check = { errors: [...error.errors], findings: [], coverage: [] };
  }
  const count = (severity: Severity): number => (severity === 'error' ? check.errors.length : check.findings.filter((f) => f.severity === severity).length);
  const summary = { errors: count('error'), warnings: count('warning'), info: count('info') };

  if (options.json) {
    const document = { errors: check.errors, findings: check.findings, ...(options.coverage ? { coverage: check.coverage } : {}), summary };
    io.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  } else {
    for (const error of check.errors) io.stdout.write(`${formatFinding({ ...error, severity: 'error' })}\n`);
    for (const finding of check.findings) io.stdout.write(`${formatFinding(finding)}\n`);
    if (options.coverage) io.stdout.write(coverageText(check.coverage));
    io.stdout.write(`${summary.errors} error${summary.errors === 1 ? '' : 's'}, ${summary.warnings} warning${summary.warnings === 1 ? '' : 's'}, ${summary.info} info\n`);
  }

  if (summary.errors > 0) return 2;
  const threshold = SEVERITIES.indexOf(options.failOn ?? 'error');
  return check.findings.some((f) => SEVERITIES.indexOf(f.severity) >= threshold) ? 1 : 0;
}

function coverageText(coverage: readonly ToolCoverage[]): string {
  const lines: string[] = [];
  for (const entry of coverage) {
    const environments = entry.environments.map((e) => (e === '*' ? 'any other' : e)).join(', ');
    lines.push(`${entry.role} ${entry.tool}  (environments: ${environments})`);
    if (!entry.regions) {
      lines.push('    not analysed');
      continue;
    }
    for (const region of entry.regions) {
      const decision = region.decision;
      const by = !decision
        ? 'depends on conditions not analysed'
        : decision.rule
          ? `${decision.effect} by ${decision.rule}`
          : `${decision.effect} by the ${decision.decidedBy === 'default' ? 'default' : decision.decidedBy === 'risk' ? 'risk tier' : 'condition error'} of ${decision.policy ?? 'the call'}`;
      lines.push(`    ${region.status.padEnd(12)} ${region.text}  →  ${by}`);
    }
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}
