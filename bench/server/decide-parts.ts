/**
 * The decide path's changed parts timed alone, old way against new, interleaved in one process
 * (a loaded machine slows both alike): `npx tsx bench/server/decide-parts.ts` after a build.
 *
 * 1. The audit batch's hand-off to the writer thread: postMessage of the entries as objects
 *    (before) and packed flat (packEntries, after), batches of 50 decision records, to a worker
 *    that unpacks and answers; event-loop µs per record (the clone is synchronous in postMessage).
 * 2. The decide body and headers: zod (before) and the fast paths (after), µs per request.
 * 3. For docs/scale-out.md: what an instance spends on one decision event of a peer instance
 *    arriving by Redis pub/sub (JSON.parse of the envelope, as RedisEventBus.receive does).
 */
import { Worker } from 'node:worker_threads';
import { cpus, loadavg } from 'node:os';
import { prepareRecord, type PreparedEntry } from '../../packages/server/dist/audit/record.js';
import { decisionRecord } from '../../packages/server/dist/services/decisions.js';
import { packEntries } from '../../packages/server/dist/store/sqlite/write-protocol.js';
import { decideBody, decideBodyFast, decideHeaders, decideHeadersFast } from '../../packages/server/dist/routes/decide.js';
import { median as med } from '../stats.js';

const BATCH = 50;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);

/** A $20 refund allowed by refund-small, as the bench decides it (shape of a real decision). */
function entry(n: number): PreparedEntry {
  const record = decisionRecord({
    id: `dec_${n.toString(36).padStart(24, '0')}`,
    at: 1_796_000_000_000 + n,
    identity: { agent: 'bench-bot-1', role: 'support', environment: 'production', keyId: '0123456789abcdef' },
    call: { tool: 'issue_refund', args: { account_id: `BENCH-R1-${n}`, amount: 20, currency: 'USD' } },
    decision: {
      effect: 'allow',
      rule: 'refund-small',
      reason: 'small refunds are allowed',
      decidedBy: 'rule',
      matched: ['refund-small'],
      limits: [{ name: 'refund-budget', key: `account:BENCH-R1-${n}`, used: 20, limit: 100, window: '24h', remaining: 80 }],
      risk: { score: 12, level: 'low', factors: [] },
      flagged: false,
      policy: { bundle: 'seed', version: 1, policies: [] },
    } as never,
  });
  return { record: prepareRecord(record), writes: [] };
}

const worker = new Worker(
  `const { parentPort } = require('node:worker_threads');
   parentPort.on('message', (m) => {
     if (m.packed) { const f = m.packed.fields; let n = 0; for (let i = 0; i < f.length; i++) if (f[i] === 'decision') n++; parentPort.postMessage(n); }
     else parentPort.postMessage(m.entries.length);
   });`,
  { eval: true },
);
const answer = () => new Promise<void>((resolve) => worker.once('message', () => resolve()));

async function handOff(packed: boolean, batches: PreparedEntry[][]): Promise<number> {
  let spent = 0;
  for (const batch of batches) {
    const started = performance.now();
    if (packed) worker.postMessage({ id: 1, kind: 'commit', packed: packEntries(batch) });
    else worker.postMessage({ id: 1, kind: 'commit', entries: batch });
    spent += performance.now() - started;
    await answer();
  }
  return (spent * 1000) / (batches.length * BATCH);
}

function parse(fast: boolean, bodies: unknown[], headers: Record<string, unknown>): number {
  const started = performance.now();
  let ok = 0;
  for (const body of bodies) {
    if (fast) {
      if (decideBodyFast(body) && decideHeadersFast(headers)) ok++;
    } else if (decideBody.safeParse(body).success && decideHeaders.safeParse(headers).success) ok++;
  }
  if (ok !== bodies.length) throw new Error('a body did not parse');
  return ((performance.now() - started) * 1000) / bodies.length;
}

const batches = Array.from({ length: 40 }, (_, b) => Array.from({ length: BATCH }, (_, i) => entry(b * BATCH + i)));
const bodies = Array.from({ length: 20_000 }, (_, i) => JSON.parse(`{"tool":"issue_refund","args":{"account_id":"BENCH-R1-${i}","amount":20,"currency":"USD"}}`) as unknown);
const headers = { host: '127.0.0.1:1', authorization: 'Bearer ak_x', 'content-type': 'application/json', 'content-length': '80' };
/** A decision event's envelope the size Redis delivers per subscriber (~530 bytes, bench/scale/costs.ts). */
const envelope = JSON.stringify({
  origin: 'f3b1c2d4-0000-4000-8000-000000000000',
  event: { type: 'decision', data: { id: 'dec_0000000000000000000001', seq: 123456, at: '2026-12-07T04:00:00.000Z', agent: 'bench-bot-1', role: 'support', environment: 'production', tool: 'issue_refund', args: { account_id: 'BENCH-R1-1', amount: 20, currency: 'USD' }, effect: 'allow', rule: 'refund-small', reason: 'small refunds are allowed', risk: { score: 12, level: 'low' }, flagged: false, policy: { bundle: 'seed', version: 1 } } },
});
function receive(count: number): number {
  const started = performance.now();
  let mine = 0;
  for (let i = 0; i < count; i++) if ((JSON.parse(envelope) as { origin: string }).origin === 'self') mine++;
  return ((performance.now() - started) * 1000) / count + mine;
}
const received: number[] = [];
const results = { objects: [] as number[], packed: [] as number[], zod: [] as number[], fast: [] as number[] };
for (let round = 0; round < ROUNDS; round++) {
  results.objects.push(await handOff(false, batches));
  results.packed.push(await handOff(true, batches));
  results.zod.push(parse(false, bodies, headers));
  results.fast.push(parse(true, bodies, headers));
  received.push(receive(20_000));
}
await worker.terminate();
const bytes = JSON.stringify(batches[0]?.[0]).length;
console.log(`decide parts — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${(loadavg()[0] ?? 0).toFixed(1)}; medians of ${ROUNDS} interleaved rounds`);
console.log(`audit hand-off, batches of ${BATCH} records (~${bytes} bytes each as JSON): objects ${med(results.objects).toFixed(2)} µs/record, packed ${med(results.packed).toFixed(2)} µs/record (${(med(results.packed) / med(results.objects)).toFixed(2)}×)`);
console.log(`decide body + headers: zod ${med(results.zod).toFixed(2)} µs, fast path ${med(results.fast).toFixed(2)} µs (${(med(results.fast) / med(results.zod)).toFixed(2)}×) per request`);
console.log(`a peer's decision event by pub/sub (${envelope.length} bytes): ${med(received).toFixed(2)} µs to parse, on every other instance, per decision`);
