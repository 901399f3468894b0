import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

const SEED_POLICIES = fileURLToPath(new URL('../../../examples/policies', import.meta.url));

export interface AuditRecord {
  event: string;
  call?: { tool: string; args: Record<string, unknown> };
  decision?: { effect: string; rule: string | null; reason: string };
  idempotencyKey?: string;
  approvalId?: string;
  args?: Record<string, unknown>;
}

export interface LocalFixture {
  /** A private copy of the seed policies (examples/policies, without their test suites). */
  policy: string;
  /** Where local mode writes its JSONL audit. */
  audit: string;
  /** Every audit record written so far. */
  records(): AuditRecord[];
  /** The decision records, as `tool effect` lines in audit order. */
  decisions(): string[];
}

/** A temporary policy directory and audit file, removed when the current test finishes. */
export function localFixture(): LocalFixture {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-sdk-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const policy = join(dir, 'policies');
  cpSync(SEED_POLICIES, policy, { recursive: true, filter: (src) => !src.includes('tests') && !src.endsWith('.ts') });
  const audit = join(dir, 'audit.jsonl');
  const records = (): AuditRecord[] =>
    readFileSync(audit, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as AuditRecord);
  const decisions = (): string[] => records().flatMap((r) => (r.event === 'decision' ? [`${r.call?.tool} ${r.decision?.effect}`] : []));
  return { policy, audit, records, decisions };
}
