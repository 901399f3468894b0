import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon, { type Result } from 'autocannon';
import Sqlite from 'better-sqlite3';
import { verifyAuditFile } from '@airlock/server';

/**
 * bench:server — POST /v1/decide (a $20 refund, its audit record durable before each answer)
 * against Fastify's hello world, all servers in child processes, loaded by autocannon over
 * loopback with keep-alive and 50 connections. Rounds alternate between targets so a noisy
 * neighbour hurts all of them alike; the table shows each target's median round.
 */

const CONNECTIONS = 50;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 3;
const ADMIN_PASSWORD = 'bench admin password';

interface Child {
  process: ChildProcess;
  url: string;
  entry?: string;
}

function launch(script: string, args: string[] = []): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(script, import.meta.url)), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    // The server package's tsconfig has no path aliases: `@airlock/server` resolves to the built dist.
    env: { ...process.env, AIRLOCK_ADMIN_PASSWORD: ADMIN_PASSWORD, TSX_TSCONFIG_PATH: fileURLToPath(new URL('../../packages/server/tsconfig.json', import.meta.url)) },
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited with ${String(code)}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', (line) => {
      const info = JSON.parse(line) as { url: string; entry?: string };
      resolve({ process: child, ...info });
    });
  });
}

function stop(child: Child): Promise<void> {
  if (child.process.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.process.removeAllListeners('exit');
    child.process.once('exit', () => resolve());
    child.process.kill('SIGTERM');
  });
}

async function json<T>(url: string, init: RequestInit): Promise<{ body: T; headers: Headers }> {
  const response = await fetch(url, init);
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${await response.text()}`);
  return { body: (await response.json()) as T, headers: response.headers };
}

/** Signs in as admin and issues a key for a new support agent. */
async function benchKey(base: string): Promise<string> {
  const login = await json<{ csrfToken: string }>(`${base}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  const headers = { cookie: (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '', 'x-airlock-csrf': login.body.csrfToken, 'content-type': 'application/json' };
  await json(`${base}/v1/agents`, { method: 'POST', headers, body: JSON.stringify({ id: 'bench-bot-1', role: 'support', environment: 'production' }) });
  return (await json<{ key: string }>(`${base}/v1/agents/bench-bot-1/keys`, { method: 'POST', headers, body: '{}' })).body.key;
}

let account = 0;
/**
 * Each request refunds $20 to a new account. The seed policy's refund-budget allows $100 per
 * account per 24 h, so repeating one account would turn its sixth refund into require_approval and
 * measure a different path; fresh accounts keep every answer `allow` (rule refund-small).
 */
function refunds(url: string, seconds: number, headers: Record<string, string> = {}): Promise<Result> {
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    requests: [
      {
        setupRequest: (request) => ({
          ...request,
          body: `{"tool":"issue_refund","args":{"account_id":"BENCH-${++account}","amount":20,"currency":"USD"}}`,
        }),
      },
    ],
  });
}

function hello(url: string, seconds: number): Promise<Result> {
  return autocannon({ url, connections: CONNECTIONS, duration: seconds });
}

function median(results: Result[]): Result {
  return [...results].sort((a, b) => a.requests.average - b.requests.average)[Math.floor(results.length / 2)] as Result;
}

function row(name: string, result: Result, reference: Result): string {
  const failed = result.errors + result.timeouts + result.non2xx;
  const ratio = ((result.requests.average / reference.requests.average) * 100).toFixed(0);
  return `| ${name} | ${Math.round(result.requests.average).toLocaleString('en-US')} | ${ratio} % | ${result.latency.p50} ms | ${result.latency.p99} ms | ${failed} |`;
}

const dataDir = mkdtempSync(join(tmpdir(), 'airlock-bench-'));
const baseline = await launch('./baseline-server.ts');
const airlock = await launch('./airlock-server.ts', [dataDir]);
try {
  const key = await benchKey(airlock.url);
  const targets = {
    hello: () => hello(`${baseline.url}/hello`, SECONDS),
    shaped: () => refunds(`${baseline.url}/decision-shaped`, SECONDS),
    decide: () => refunds(`${airlock.url}/v1/decide`, SECONDS, { authorization: `Bearer ${key}` }),
  };
  await hello(`${baseline.url}/hello`, WARMUP_SECONDS);
  await refunds(`${baseline.url}/decision-shaped`, WARMUP_SECONDS);
  await refunds(`${airlock.url}/v1/decide`, WARMUP_SECONDS, { authorization: `Bearer ${key}` });
  const rounds: Record<keyof typeof targets, Result[]> = { hello: [], shaped: [], decide: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of Object.keys(targets) as (keyof typeof targets)[]) rounds[name].push(await targets[name]());
  }
  await stop(airlock);

  const database = join(dataDir, 'airlock.db');
  const chain = await verifyAuditFile(database);
  const sqlite = new Sqlite(database, { readonly: true });
  const effects = sqlite.prepare("select effect, count(*) as n from audit where type = 'decision' group by effect").all() as { effect: string; n: number }[];
  sqlite.close();
  const answered = rounds.decide.reduce((sum, r) => sum + r['2xx'], 0);

  const reference = median(rounds.hello);
  const decide = median(rounds.decide);
  console.log(`Server bench — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
  console.log(`autocannon: ${CONNECTIONS} connections, keep-alive, loopback; ${ROUNDS} alternating rounds of ${SECONDS} s per target (median round shown)`);
  console.log(`Airlock: ${airlock.entry ?? '@airlock/server'}, SQLite WAL synchronous=FULL in ${dataDir}\n`);
  console.log('| target | req/s | vs hello | p50 | p99 | failed |');
  console.log('|---|---:|---:|---:|---:|---:|');
  console.log(row('Fastify hello world (GET)', reference, reference));
  console.log(row('Fastify POST, same body in, decision-sized JSON out, no work (ceiling)', median(rounds.shaped), reference));
  console.log(row('Airlock POST /v1/decide, $20 refund, durable audit', decide, reference));
  console.log(`\nrounds (req/s): hello ${rounds.hello.map((r) => Math.round(r.requests.average)).join(' / ')}; decide ${rounds.decide.map((r) => Math.round(r.requests.average)).join(' / ')}`);
  console.log(`targets: ≥ 60 % of hello world → ${((decide.requests.average / reference.requests.average) * 100).toFixed(1)} %; p99 < 10 ms → ${decide.latency.p99} ms`);
  console.log(
    `audit: ${chain.ok ? `chain verified, ${chain.records} records` : `CHAIN BROKEN at seq ${chain.seq}: ${chain.reason}`}; ` +
      `decision records by effect: ${effects.map((e) => `${e.effect} ${e.n}`).join(', ')}; 2xx answers in measured rounds: ${answered}`,
  );
} finally {
  await stop(baseline);
  await stop(airlock);
  rmSync(dataDir, { recursive: true, force: true });
}
