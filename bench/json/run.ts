/**
 * The JSON body scan (depth bound and duplicate keys, packages/core/src/engine/json-text.ts) that
 * every API body passes before it is parsed: its cost next to JSON.parse on a typical decide body
 * and on a 1 MB one. `npx tsx bench/json/run.ts`
 */
import { jsonTextProblem } from '../../packages/core/src/engine/json-text.js';

const decide = JSON.stringify({
  tool: 'issue_refund',
  args: { account_id: 'A-1042', amount: 75.5, currency: 'USD' },
  session: 'sess_8f3a2c',
  intent: 'customer asked for a refund of a duplicate charge',
});
const big = JSON.stringify({
  tool: 'update_records',
  args: { system: 'crm', object: 'contact', ids: Array.from({ length: 18000 }, (_, i) => `rec-${i}`), rows: Array.from({ length: 12000 }, (_, i) => ({ id: i, name: `Ada "${i}"`, tags: ['a', 'b'], note: 'x\\y' })) },
});

function time(label: string, fn: () => unknown, iterations: number): number {
  for (let i = 0; i < Math.min(iterations, 1000); i++) fn();
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  const us = Number(process.hrtime.bigint() - started) / 1000 / iterations;
  console.log(`${label.padEnd(40)} ${us.toFixed(us < 10 ? 3 : 0).padStart(9)} µs`);
  return us;
}

for (const [name, text, n] of [
  [`decide body (${decide.length} B)`, decide, 200_000],
  [`1 MB body (${(big.length / 1e6).toFixed(2)} MB)`, big, 100],
] as const) {
  console.log(name);
  const scan = time('  scan (depth + duplicate keys)', () => jsonTextProblem(text), n);
  const parse = time('  JSON.parse', () => JSON.parse(text), n);
  console.log(`  scan / parse: ${(scan / parse).toFixed(2)}`);
}
