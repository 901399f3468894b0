import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundle, replayCalls, type ReplayReport } from '@airlock/core';
import { writeHistory, type HistoryCall } from '../../../bench/replay/history.js';

const BIN = 'packages/cli/bin/airlock.js';

describe('airlock replay (backtest over the audit trail)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-replay-'));
  const db = join(dir, 'airlock.db');
  const candidate = join(dir, 'candidate');
  let history: HistoryCall[];
  beforeAll(async () => {
    history = await writeHistory(db, 12_000, { seed: 11 });
    // The candidate lowers the refund auto-approval threshold from $50 to $30 and the per-account
    // budget from $100 to $60: flips that depend on the amount alone and flips that depend on state.
    cpSync('examples/policies', candidate, { recursive: true, filter: (src) => !src.includes('tests') });
    const file = join(candidate, 'customer-support.yaml');
    const text = readFileSync(file, 'utf8');
    const edited = text.replace('args.amount <= 50', 'args.amount <= 30').replace('args.amount > 50 &&', 'args.amount > 30 &&').replace('max: 100', 'max: 60');
    expect(edited).not.toBe(text);
    writeFileSync(file, edited);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function run(...args: string[]) {
    return spawnSync(process.execPath, [BIN, 'replay', '--candidate', candidate, '--db', db, ...args], { encoding: 'utf8' });
  }

  it('reports the same flips as deciding each recorded call directly, limit state included', () => {
    const result = run('--json', '--examples', '2');
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as ReplayReport & { callsPerSecond: number };
    const direct = replayCalls(loadBundle(candidate), history, { version: 'candidate', examplesPerFlip: 2 });
    expect(report.calls).toBe(12_000);
    expect(report.before).toEqual(direct.before);
    expect(report.after).toEqual(direct.after);
    expect(report.flipped).toBe(direct.flipped);
    expect(report.flips.map(({ from, to, rule, count }) => ({ from, to, rule, count }))).toEqual(direct.flips.map(({ from, to, rule, count }) => ({ from, to, rule, count })));
    // Both kinds of flip are there: by the new threshold and by the tighter budget (state).
    const rules = new Set(report.flips.map((f) => f.rule));
    expect(rules).toContain('refund-medium');
    expect(rules).toContain('refund-budget');
    expect(report.callsPerSecond).toBeGreaterThan(0);
  });

  it('prints a readable report and honours --since', () => {
    const all = run();
    expect(all.status).toBe(0);
    expect(all.stdout).toMatch(/^Replayed 12,000 recorded calls/);
    expect(all.stdout).toMatch(/allow → approval by refund-medium: [\d,]+/);
    const inLastHour = (now: number) => history.filter((call) => call.request.at >= now - 3_600_000).length;
    const most = inLastHour(Date.now());
    const recent = run('--since', '1h', '--json');
    const least = inLastHour(Date.now());
    const report = JSON.parse(recent.stdout) as ReplayReport;
    // One call every 5 s: about 720 in the last hour, fewer as the clock moves on during the run.
    expect(report.calls).toBeGreaterThanOrEqual(least);
    expect(report.calls).toBeLessThanOrEqual(most);
    expect(least).toBeGreaterThan(600);
  });

  it('refuses a missing database and a bad duration with exit 2', () => {
    expect(spawnSync(process.execPath, [BIN, 'replay', '--candidate', candidate, '--db', join(dir, 'none.db')], { encoding: 'utf8' }).status).toBe(2);
    expect(run('--since', 'a while').status).toBe(2);
  });
});
