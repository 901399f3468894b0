/**
 * `npm run test:reliability`: the long versions of the reliability suites (crash rounds, 100,000
 * fuzzed and differential cases, a 5-minute soak), then one summary table of what they proved.
 * The short versions of the same suites run inside `npm test`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { OUTPUT_DIR, type SummaryRow } from './support.js';

rmSync(OUTPUT_DIR, { recursive: true, force: true });
const started = Date.now();
const run = spawnSync('npx', ['vitest', 'run', 'test/reliability'], { stdio: 'inherit', env: { ...process.env, AIRLOCK_RELIABILITY: 'long' } });

let rows: SummaryRow[] = [];
try {
  rows = readdirSync(OUTPUT_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(OUTPUT_DIR, f), 'utf8')) as SummaryRow);
} catch {
  // no suite wrote a summary
}
const header = ['suite', 'rounds', 'cases', 'faults', 'lost', 'notes'];
console.log(`\nReliability summary (${new Date().toISOString()}, ${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const row of rows.sort((a, b) => a.suite.localeCompare(b.suite))) {
  console.log(`| ${row.suite} | ${row.rounds} | ${row.cases.toLocaleString('en-US')} | ${row.faults.toLocaleString('en-US')} | ${row.lost} | ${row.notes} |`);
}
const lost = rows.reduce((sum, row) => sum + row.lost, 0);
console.log(`\nlost records / wrong answers in all: ${lost}`);
process.exit(run.status ?? 1);
