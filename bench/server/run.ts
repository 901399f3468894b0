import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Sqlite from 'better-sqlite3';
import { verifyAuditFile } from '@airlock/server';
import { cerbosBinary, cerbosVerdict, startCerbos, type Cerbos } from './cerbos.js';
import { chooseLoadGenerator, CONNECTIONS, load, type LoadResult, type Target } from './load.js';
import { ADMIN_PASSWORD, benchKey, json } from './admin.js';

/**
 * bench:server — POST /v1/decide (a $20 refund, its audit record durable before each answer)
 * against the Cerbos PDP deciding the same refund with its file audit log on (the system a user
 * would deploy instead), with Fastify's hello world and a no-work decision-shaped route as
 * reference rows. All servers run in child processes, loaded by one load generator (wrk, 1 thread,
 * 50 connections, keep-alive, loopback). Rounds alternate between targets so a noisy neighbour
 * hurts all of them alike; each row is the target's median round.
 *
 * A second Airlock server with OpenTelemetry on (OTEL_EXPORTER_OTLP_ENDPOINT pointing at a sink in
 * this process that reads and drops each OTLP/protobuf export) gives the "tracing on" row beside
 * the default (off: OpenTelemetry not loaded).
 *
 * BENCH_SECONDS (10), BENCH_ROUNDS (3), BENCH_WARMUP_SECONDS (3): round lengths and count.
 * BENCH_PEERS_DIR: the peers folder (default: `shared/peers` beside the repository's clone).
 * BENCH_LOADGEN=autocannon: use autocannon instead of wrk.
 */

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const PEERS = process.env.BENCH_PEERS_DIR ?? join(REPO, '..', 'shared', 'peers');

interface Child {
  process: ChildProcess;
  url: string;
  entry?: string;
}

function launch(script: string, args: string[] = [], extraEnv: Record<string, string> = {}): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(script, import.meta.url)), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    // The server package's tsconfig has no path aliases: `@airlock/server` resolves to the built dist.
    env: { ...process.env, AIRLOCK_ADMIN_PASSWORD: ADMIN_PASSWORD, TSX_TSCONFIG_PATH: fileURLToPath(new URL('../../packages/server/tsconfig.json', import.meta.url)), ...extraEnv },
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited with ${String(code)}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', (line) => {
      const info = JSON.parse(line) as { url: string; entry?: string };
      resolve({ process: child, ...info });
    });
  });
}

function stop(child: { process: ChildProcess }): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.process.removeAllListeners('exit');
    child.process.once('exit', () => resolve());
    child.process.kill('SIGTERM');
  });
}



/** Airlock's answer to a refund of `amount` for a fresh account (the parity check before timing). */
async function airlockVerdict(url: string, key: string, amount: number): Promise<string> {
  const { body } = await json<{ effect: string }>(`${url}/v1/decide`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ tool: 'issue_refund', args: { account_id: `CHECK-${amount}`, amount, currency: 'USD' } }),
  });
  return body.effect;
}

function median(results: LoadResult[]): LoadResult {
  return [...results].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(results.length / 2)] as LoadResult;
}

const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(1));
const count = (value: number) => Math.round(value).toLocaleString('en-US');

const log = (line: string) => console.error(`[bench:server] ${line}`);
const generator = chooseLoadGenerator(log);
const cerbosBin = cerbosBinary();
const cerbosPeer = join(PEERS, 'cerbos');
const cerbosSkipped = 'missing' in cerbosBin ? cerbosBin.missing : existsSync(join(cerbosPeer, 'config_audit_file.yaml')) ? undefined : `${cerbosPeer}/config_audit_file.yaml not found (set BENCH_PEERS_DIR)`;
if (cerbosSkipped) log(`Cerbos row skipped: ${cerbosSkipped}`);

/** The OTLP sink of the traced server: reads each export and answers 200, counting what it received. */
const otlp = { requests: 0, bytes: 0 };
const sink = createServer((request, response) => {
  otlp.requests++;
  request.on('data', (chunk: Buffer) => (otlp.bytes += chunk.length));
  request.on('end', () => response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
});
await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;

const dataDir = mkdtempSync(join(tmpdir(), 'airlock-bench-'));
const tracedDir = mkdtempSync(join(tmpdir(), 'airlock-bench-traced-'));
const cerbosDir = mkdtempSync(join(tmpdir(), 'cerbos-bench-'));
const load0 = loadavg()[0] ?? 0;
const started = Date.now();
let baseline: Child | undefined;
let airlock: Child | undefined;
let traced: Child | undefined;
let cerbos: Cerbos | undefined;
try {
  baseline = await launch('./baseline-server.ts');
  airlock = await launch('./airlock-server.ts', [dataDir]);
  traced = await launch('./airlock-server.ts', [tracedDir], { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_SERVICE_NAME: 'airlock-bench' });
  if (!cerbosSkipped && !('missing' in cerbosBin)) cerbos = await startCerbos(cerbosBin.path, cerbosBin.version, cerbosPeer, cerbosDir);
  const key = await benchKey(airlock.url);
  const tracedKey = await benchKey(traced.url);

  // Both deciders must give the same answers as the seed policy before anything is timed.
  if (cerbos) {
    for (const amount of [20, 50, 50.01, 200, 500, 500.01, 1000]) {
      const [a, c] = [await airlockVerdict(airlock.url, key, amount), await cerbosVerdict(cerbos.url, amount)];
      if (a !== c) throw new Error(`$${amount} refund: Airlock ${a}, Cerbos ${c}`);
    }
  }

  const targets: Record<string, Target> = {
    hello: { kind: 'get', url: `${baseline.url}/hello` },
    shaped: { kind: 'airlock', url: `${baseline.url}/decision-shaped`, key: 'unused' },
    decide: { kind: 'airlock', url: `${airlock.url}/v1/decide`, key },
    traced: { kind: 'airlock', url: `${traced.url}/v1/decide`, key: tracedKey },
    ...(cerbos ? { cerbos: { kind: 'cerbos', url: cerbos.url } as Target } : {}),
  };
  const names = Object.keys(targets);
  for (const name of names) await load(generator, targets[name] as Target, WARMUP_SECONDS);
  const rounds: Record<string, LoadResult[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of names) {
      const result = await load(generator, targets[name] as Target, SECONDS);
      rounds[name]?.push(result);
      log(`round ${round + 1}/${ROUNDS} ${name}: ${count(result.perSecond)}/s p99 ${ms(result.p99ms)} ms`);
    }
  }
  await stop(airlock);
  await stop(traced);
  if (cerbos) await stop(cerbos);

  const database = join(dataDir, 'airlock.db');
  const chain = await verifyAuditFile(database);
  const sqlite = new Sqlite(database, { readonly: true });
  const effects = sqlite.prepare("select effect, count(*) as n from audit where type = 'decision' group by effect").all() as { effect: string; n: number }[];
  sqlite.close();
  const cerbosDecisions = cerbos && existsSync(cerbos.auditLog) ? readFileSync(cerbos.auditLog, 'utf8').split('\n').filter((line) => line.includes('"decisionLogEntry"') || line.includes('"checkResources"')).length : 0;

  const reference = median(rounds.hello ?? []);
  const decide = median(rounds.decide ?? []);
  const peer = cerbos ? median(rounds.cerbos ?? []) : undefined;
  const row = (name: string, result: LoadResult) =>
    `| ${name} | ${count(result.perSecond)} | ${((result.perSecond / reference.perSecond) * 100).toFixed(0)} % | ${ms(result.p50ms)} ms | ${ms(result.p99ms)} ms | ${result.failed} |`;
  console.log(`Server bench — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average at start ${load0.toFixed(2)}`);
  console.log(`${generator === 'wrk' ? 'wrk, 1 thread' : 'autocannon'}, ${CONNECTIONS} connections, keep-alive, loopback; ${ROUNDS} alternating rounds of ${SECONDS} s per target after ${WARMUP_SECONDS} s warm-ups (median round shown)`);
  console.log(`Airlock: ${airlock.entry ?? '@airlock/server'}, SQLite WAL synchronous=FULL in ${dataDir}`);
  console.log(cerbos ? `Cerbos ${cerbos.version}: ${cerbosPeer} (file audit log on)\n` : `Cerbos: skipped (${cerbosSkipped ?? ''})\n`);
  console.log('| target | req/s | vs hello | p50 | p99 | failed |');
  console.log('|---|---:|---:|---:|---:|---:|');
  console.log(row('Fastify hello world (GET)', reference));
  console.log(row('Fastify POST, same body in, decision-sized JSON out, no work (ceiling)', median(rounds.shaped ?? [])));
  console.log(row('Airlock POST /v1/decide, $20 refund, durable audit', decide));
  const tracedResult = median(rounds.traced ?? []);
  console.log(row('the same, OpenTelemetry on (a span per decision, OTLP/protobuf to a local sink)', tracedResult));
  if (peer) console.log(row(`Cerbos ${cerbos?.version ?? ''} POST /api/check/resources, $20 refund, file audit log`, peer));
  console.log(`\nrounds (req/s): ${names.map((name) => `${name} ${(rounds[name] ?? []).map((r) => count(r.perSecond)).join(' / ')}`).join('; ')}`);
  if (peer) {
    const throughput = decide.perSecond / peer.perSecond;
    const p99 = decide.p99ms / peer.p99ms;
    // Each round's pair ran back to back: on a busy machine its ratio varies less than the medians'.
    const pairs = (rounds.decide ?? []).map((r, i) => `${(r.perSecond / (rounds.cerbos?.[i]?.perSecond ?? Number.NaN)).toFixed(2)}×`);
    console.log(`Airlock ÷ Cerbos decisions/s by round: ${pairs.join(' / ')}`);
    console.log(`target: Airlock ≥ 4× Cerbos decisions/s → ${throughput.toFixed(2)}× ${throughput >= 4 ? 'PASS' : 'FAIL'}`);
    console.log(`target: Airlock p99 ≤ ⅓ of Cerbos's and < 10 ms → ${p99.toFixed(2)}×, ${ms(decide.p99ms)} ms ${p99 <= 1 / 3 && decide.p99ms < 10 ? 'PASS' : 'FAIL'}`);
    // What no decide route on this Node/Fastify stack can pass: the route that only reads the body
    // and answers a decision-sized JSON, against the same Cerbos rounds.
    const ceiling = median(rounds.shaped ?? []);
    console.log(`reference: the no-work POST route ÷ Cerbos → ${(ceiling.perSecond / peer.perSecond).toFixed(2)}× (Airlock decide ÷ that route: ${((decide.perSecond / ceiling.perSecond) * 100).toFixed(0)} %)`);
  }
  const tracedPairs = (rounds.decide ?? []).map((r, i) => `${((rounds.traced?.[i]?.perSecond ?? Number.NaN) / r.perSecond).toFixed(2)}×`);
  console.log(`tracing on ÷ off decisions/s by round: ${tracedPairs.join(' / ')}; p50 ${ms(decide.p50ms)} → ${ms(tracedResult.p50ms)} ms; OTLP sink received ${count(otlp.requests)} exports, ${count(otlp.bytes)} bytes`);
  const answered = (rounds.decide ?? []).reduce((sum, r) => sum + r.requests - r.failed, 0);
  console.log(
    `audit: Airlock ${chain.ok ? `chain verified, ${chain.records} records` : `CHAIN BROKEN at seq ${chain.seq}: ${chain.reason}`}; ` +
      `decision records by effect: ${effects.map((e) => `${e.effect} ${e.n}`).join(', ')}; answered in measured rounds: ${answered}` +
      (cerbos ? `; Cerbos decision log entries: ${cerbosDecisions}` : ''),
  );
  console.log(`took ${Math.round((Date.now() - started) / 1000)} s`);
} finally {
  for (const child of [baseline, airlock, traced, cerbos]) if (child) await stop(child);
  sink.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(tracedDir, { recursive: true, force: true });
  rmSync(cerbosDir, { recursive: true, force: true });
}
