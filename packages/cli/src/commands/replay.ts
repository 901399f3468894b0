import { existsSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { loadBundle, parseDuration, type Effect, type FlipGroup } from '@airlock/core';
import { replayAuditFile } from '@airlock/server';

export interface ReplayCommandOptions {
  candidate: string;
  db: string;
  since?: string;
  json?: boolean;
  examples?: string;
}

const LABEL: Record<Effect, string> = { allow: 'allow', require_approval: 'approval', block: 'block' };

/**
 * `airlock replay --candidate <dir> [--db data/airlock.db] [--since 7d] [--json]`: the backtest.
 * Every decision in the audit trail is decided again by the candidate bundle, in time order with
 * the candidate's own limit state; prints what would change, grouped by rule, with examples.
 * Exit 0 (a report), 2 when the database or the candidate cannot be read.
 */
export async function replayCommand(options: ReplayCommandOptions, io: { stdout: Writable; stderr: Writable }, now = Date.now()): Promise<number> {
  if (!existsSync(options.db)) {
    io.stderr.write(`airlock: no database at ${options.db}\n`);
    return 2;
  }
  let sinceMs: number | undefined;
  if (options.since !== undefined) {
    const window = parseDuration(options.since);
    if (window === undefined) {
      io.stderr.write(`airlock: --since ${options.since} is not a duration (e.g. 30m, 24h, 7d)\n`);
      return 2;
    }
    sinceMs = now - window;
  }
  const candidate = loadBundle(options.candidate);
  const started = performance.now();
  const report = await replayAuditFile(options.db, candidate, {
    ...(sinceMs === undefined ? {} : { sinceMs }),
    ...(options.examples === undefined ? {} : { examplesPerFlip: Number(options.examples) }),
  });
  const seconds = (performance.now() - started) / 1000;
  const rate = report.calls / Math.max(seconds, 1e-9);
  if (options.json) {
    io.stdout.write(`${JSON.stringify({ ...report, seconds, callsPerSecond: Math.round(rate) })}\n`);
    return 0;
  }
  const n = (value: number) => value.toLocaleString('en-US');
  io.stdout.write(
    `Replayed ${n(report.calls)} recorded calls${report.from ? ` (${report.from} … ${report.to})` : ''} against ${options.candidate} ` +
      `in ${seconds.toFixed(2)} s (${n(Math.round(rate))} calls/s)\n\n`,
  );
  io.stdout.write(`${'effect'.padEnd(10)}${'recorded'.padStart(12)}${'candidate'.padStart(12)}\n`);
  for (const effect of ['allow', 'require_approval', 'block'] as const) {
    io.stdout.write(`${LABEL[effect].padEnd(10)}${n(report.before[effect]).padStart(12)}${n(report.after[effect]).padStart(12)}\n`);
  }
  io.stdout.write(`\n${n(report.flipped)} decision${report.flipped === 1 ? '' : 's'} would change${report.flipped === 0 ? '.' : ':'}\n`);
  for (const group of report.flips) io.stdout.write(formatGroup(group));
  return 0;
}

function formatGroup(group: FlipGroup): string {
  let out = `\n  ${LABEL[group.from]} → ${LABEL[group.to]} by ${group.rule ?? '(default)'}: ${group.count.toLocaleString('en-US')}\n`;
  for (const example of group.examples) {
    const { request } = example;
    out += `    e.g. ${example.id ?? ''} ${request.agent} ${request.tool} ${JSON.stringify(request.args)} at ${new Date(request.at).toISOString()} (was ${LABEL[example.before.effect]} by ${example.before.rule ?? '(default)'})\n`;
  }
  return out;
}
