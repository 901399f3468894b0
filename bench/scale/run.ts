/**
 * `npm run bench:scale`: decisions/s of Airlock on one SQLite instance, and on 1 and 3 instances
 * sharing PostgreSQL + Redis, in the same run on this machine. Each instance is the built server
 * in its own process (as `npm start` runs it); autocannon drives every instance of a target at
 * once (50 connections in all, split evenly), each request a $20 refund to a new account, so every
 * decision consults the refund budget (shared counters) and is audited durably before it answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon, { type Result } from 'autocannon';
import pg from 'pg';
import { Redis } from 'ioredis';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 3;
const CONNECTIONS = 50;
const ADMIN_PASSWORD = 'bench-admin-password-1';
const POSTGRES_URL = process.env.AIRLOCK_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.AIRLOCK_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Instance {
  process: ChildProcess;
  url: string;
}

function launch(dataDir: string, env: Record<string, string>): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../server/airlock-server.ts', import.meta.url)), dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      ...env,
      AIRLOCK_ADMIN_PASSWORD: ADMIN_PASSWORD,
      // No path aliases: `@airlock/server` resolves to the built package.
      TSX_TSCONFIG_PATH: fileURLToPath(new URL('../../packages/server/tsconfig.json', import.meta.url)),
    },
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`instance exited with ${String(code)}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', (line) => {
      resolve({ process: child, url: (JSON.parse(line) as { url: string }).url });
    });
  });
}

function stop(instance: Instance): Promise<void> {
  if (instance.process.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    instance.process.removeAllListeners('exit');
    instance.process.once('exit', () => resolve());
    instance.process.kill('SIGTERM');
  });
}

async function json<T>(url: string, init: RequestInit): Promise<{ body: T; headers: Headers }> {
  const response = await fetch(url, init);
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${await response.text()}`);
  return { body: (await response.json()) as T, headers: response.headers };
}

async function benchKey(base: string, agentId: string): Promise<string> {
  const login = await json<{ csrfToken: string }>(`${base}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  const headers = { cookie: (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '', 'x-airlock-csrf': login.body.csrfToken, 'content-type': 'application/json' };
  await json(`${base}/v1/agents`, { method: 'POST', headers, body: JSON.stringify({ id: agentId, role: 'support', environment: 'production' }) });
  return (await json<{ key: string }>(`${base}/v1/agents/${agentId}/keys`, { method: 'POST', headers, body: '{}' })).body.key;
}

let account = 0;
function refunds(url: string, key: string, connections: number, seconds: number): Promise<Result> {
  return autocannon({
    url: `${url}/v1/decide`,
    connections,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    requests: [{ setupRequest: (request) => ({ ...request, body: `{"tool":"issue_refund","args":{"account_id":"SCALE-${++account}","amount":20,"currency":"USD"}}` }) }],
  });
}

interface Measured {
  perSecond: number;
  p50: number;
  p99: number;
  failed: number;
  allowed: number;
}

/** Runs every instance of a target at once; the totals add up, latencies are the worst instance's. */
async function drive(instances: Instance[], key: string, seconds: number): Promise<Measured> {
  const per = Math.floor(CONNECTIONS / instances.length);
  const results = await Promise.all(instances.map((instance) => refunds(instance.url, key, per, seconds)));
  return {
    perSecond: results.reduce((sum, r) => sum + r.requests.average, 0),
    p50: Math.max(...results.map((r) => r.latency.p50)),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    failed: results.reduce((sum, r) => sum + r.errors + r.timeouts + r.non2xx, 0),
    allowed: results.reduce((sum, r) => sum + r['2xx'], 0),
  };
}

async function target(name: string, count: number, env: (i: number) => Record<string, string>): Promise<Measured> {
  const dirs = Array.from({ length: count }, () => mkdtempSync(join(tmpdir(), 'airlock-scale-')));
  const instances: Instance[] = [];
  try {
    instances.push(await launch(dirs[0] as string, env(0)));
    for (let i = 1; i < count; i++) instances.push(await launch(dirs[i] as string, env(i)));
    const key = await benchKey((instances[0] as Instance).url, `scale-bot-${name.replace(/\W+/g, '-')}`);
    await drive(instances, key, WARMUP_SECONDS);
    return await drive(instances, key, SECONDS);
  } finally {
    await Promise.all(instances.map(stop));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

const run = Date.now().toString(36);
const shared = (tag: string) => ({
  AIRLOCK_DATABASE_URL: POSTGRES_URL,
  AIRLOCK_DATABASE_SCHEMA: `airlock_bench_${tag}_${run}`,
  AIRLOCK_REDIS_URL: REDIS_URL,
  AIRLOCK_REDIS_PREFIX: `airlock_bench_${tag}_${run}:`,
});
const rows: [string, Measured][] = [];
try {
  rows.push(['SQLite, 1 instance', await target('sqlite', 1, () => ({}))]);
  rows.push(['PostgreSQL + Redis, 1 instance', await target('pg1', 1, () => shared('one'))]);
  rows.push(['PostgreSQL + Redis, 3 instances', await target('pg3', 3, () => shared('three'))]);
} finally {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  for (const tag of ['one', 'three']) await client.query(`DROP SCHEMA IF EXISTS airlock_bench_${tag}_${run} CASCADE`);
  await client.end();
  const redis = new Redis(REDIS_URL);
  for (const tag of ['one', 'three']) {
    const keys = await redis.keys(`airlock_bench_${tag}_${run}:*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  redis.disconnect();
}

const base = rows[0]?.[1].perSecond ?? 1;
console.log(`Scale bench — ${new Date().toISOString()}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
console.log(`autocannon: ${CONNECTIONS} connections in all (split over the instances), keep-alive, loopback, ${SECONDS} s per target after ${WARMUP_SECONDS} s warm-up\n`);
console.log('| target | decisions/s | vs SQLite | p50 | p99 | 2xx | failed |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const [name, m] of rows) {
  console.log(`| ${name} | ${Math.round(m.perSecond).toLocaleString('en-US')} | ${((m.perSecond / base) * 100).toFixed(0)} % | ${m.p50} ms | ${m.p99} ms | ${m.allowed} | ${m.failed} |`);
}
