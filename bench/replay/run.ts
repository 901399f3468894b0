/**
 * `npm run bench:replay`: `airlock replay` (the built CLI, as users run it) over 100,000 recorded
 * decisions in a server database, against a candidate that lowers the refund threshold and budget.
 * Prints wall time and calls/s of the whole command (process start, bundle load, reading the
 * audit trail, deciding every call), next to the engine deciding the same calls from memory.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBundle, replayCalls } from '../../packages/core/src/index.js';
import { writeHistory } from './history.js';
import { median } from '../stats.js';

const COUNT = Number(process.env.BENCH_CALLS ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-replay-'));
try {
  const db = join(dir, 'airlock.db');
  const generated = performance.now();
  const history = await writeHistory(db, COUNT, { seed: 3 });
  const generateSeconds = (performance.now() - generated) / 1000;
  const candidate = join(dir, 'candidate');
  cpSync('examples/policies', candidate, { recursive: true, filter: (src) => !src.includes('tests') });
  const file = join(candidate, 'customer-support.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('args.amount <= 50', 'args.amount <= 30').replace('args.amount > 50 &&', 'args.amount > 30 &&').replace('max: 100', 'max: 60'));

  const rounds: { wall: number; inside: number; flipped: number }[] = [];
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    const result = spawnSync(process.execPath, ['packages/cli/bin/airlock.js', 'replay', '--candidate', candidate, '--db', db, '--json'], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    const wall = (performance.now() - started) / 1000;
    if (result.status !== 0) throw new Error(result.stderr);
    const report = JSON.parse(result.stdout) as { calls: number; flipped: number; seconds: number };
    if (report.calls !== COUNT) throw new Error(`replayed ${report.calls} of ${COUNT}`);
    rounds.push({ wall, inside: report.seconds, flipped: report.flipped });
  }
  const memory = performance.now();
  const direct = replayCalls(loadBundle(candidate), history, { version: 'candidate' });
  const memorySeconds = (performance.now() - memory) / 1000;
  if (direct.flipped !== rounds[0]?.flipped) throw new Error(`the CLI found ${rounds[0]?.flipped} flips, direct replay ${direct.flipped}`);

  const wall = median(rounds.map((r) => r.wall));
  const inside = median(rounds.map((r) => r.inside));
  console.log(`Replay bench — ${new Date().toISOString()}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
  console.log(`${COUNT.toLocaleString('en-US')} recorded decisions generated and stored in ${generateSeconds.toFixed(1)} s; ${direct.flipped.toLocaleString('en-US')} would flip\n`);
  console.log('| what | seconds | calls/s |');
  console.log('|---|---:|---:|');
  console.log(`| \`airlock replay\`, whole command (median of 3) | ${wall.toFixed(2)} | ${Math.round(COUNT / wall).toLocaleString('en-US')} |`);
  console.log(`| of which reading the audit trail and deciding | ${inside.toFixed(2)} | ${Math.round(COUNT / inside).toLocaleString('en-US')} |`);
  console.log(`| \`replayCalls\` on the same calls in memory (no database) | ${memorySeconds.toFixed(2)} | ${Math.round(COUNT / memorySeconds).toLocaleString('en-US')} |`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
