/**
 * `npx tsx bench/scale/costs.ts` (after `npm run build`): what one decision costs each shared
 * component when instances share PostgreSQL + Redis, the inputs of docs/scale-out.md's capacity
 * model. N instances (BENCH_INSTANCES, 2) of the built server, each on its own wrk (1 thread,
 * 50 connections, the bench:server request: a $20 refund to a new account, so every decision
 * consults the refund budget's shared counter and is audited durably) for BENCH_SECONDS (15).
 *
 * Counted over the timed window, divided by the decisions it audited:
 * - server CPU µs per decision (every thread of every instance, /proc/<pid>/stat);
 * - PostgreSQL: transactions committed (`pg_stat_database.xact_commit` of a database created for
 *   this run, so no other client's count mixes in), rows inserted, database growth in bytes, WAL
 *   bytes (`pg_current_wal_lsn`, server-wide: an upper bound when others use the server), and
 *   CPU µs of the backends serving the instances;
 * - Redis: commands by name (`INFO commandstats` of a redis-server started for this run, so the
 *   counts are ours alone), network bytes in and out, and redis-server CPU µs.
 * A second window of the same length with no load gives the idle background (polls), subtracted.
 * BENCH_PROFILE=<dir>: the instances run with --cpu-prof into that directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Redis } from 'ioredis';
import { load } from '../server/load.js';
import { ADMIN_PASSWORD, benchKey } from '../server/admin.js';

const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 2);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const PG_ADMIN_URL = process.env.AIRLOCK_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const TICK_US = 1e6 / 100;
const run = `airlock_capacity_${Date.now().toString(36)}`;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

function cpuTicks(pid: number, thread = false): number {
  try {
    const text = readFileSync(thread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function launch(dataDir: string, env: Record<string, string>): Promise<{ process: ChildProcess; url: string }> {
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', fileURLToPath(new URL('../server/airlock-server.ts', import.meta.url)), dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env, AIRLOCK_ADMIN_PASSWORD: ADMIN_PASSWORD, TSX_TSCONFIG_PATH: fileURLToPath(new URL('../../packages/server/tsconfig.json', import.meta.url)) },
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`instance exited with ${String(code)}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', (line) => resolve({ process: child, url: (JSON.parse(line) as { url: string }).url }));
  });
}



interface Snapshot {
  at: number;
  decisions: number;
  xactCommit: number;
  xactRollback: number;
  tupInserted: number;
  dbBytes: number;
  walLsn: string;
  pgCpu: number;
  redis: Map<string, number>;
  redisIn: number;
  redisOut: number;
  redisCpu: number;
  serverCpu: number;
  loopCpu: number;
}

const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
await admin.connect();
await admin.query(`CREATE DATABASE ${run}`);
const dbUrl = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${run}`);
const db = new pg.Client({ connectionString: dbUrl });
const redisPort = await freePort();
const redisDir = mkdtempSync(join(tmpdir(), 'airlock-capacity-redis-'));
const redisServer = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', redisDir], { stdio: 'ignore' });
const dirs: string[] = [];
const instances: { process: ChildProcess; url: string }[] = [];
const load0 = loadavg()[0] ?? 0;
try {
  await new Promise((resolve) => setTimeout(resolve, 300));
  const redis = new Redis(`redis://127.0.0.1:${redisPort}`);
  await db.connect();
  const env = { AIRLOCK_DATABASE_URL: dbUrl, AIRLOCK_REDIS_URL: `redis://127.0.0.1:${redisPort}` };
  for (let i = 0; i < INSTANCES; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-capacity-'));
    dirs.push(dir);
    instances.push(await launch(dir, env));
  }
  const key = await benchKey((instances[0] as { url: string }).url);

  const snapshot = async (): Promise<Snapshot> => {
    const stat = (await admin.query<{ xact_commit: string; xact_rollback: string; tup_inserted: string }>('SELECT xact_commit, xact_rollback, tup_inserted FROM pg_stat_database WHERE datname = $1', [run])).rows[0];
    const size = (await admin.query<{ size: string; lsn: string }>('SELECT pg_database_size($1) AS size, pg_current_wal_lsn()::text AS lsn', [run])).rows[0];
    const backends = (await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [run])).rows.map((row) => row.pid);
    const decisions = Number((await db.query<{ n: string }>("SELECT count(*) AS n FROM audit WHERE type = 'decision'")).rows[0]?.n ?? 0);
    const info = await redis.info('commandstats');
    const commands = new Map<string, number>();
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) commands.set(match[1] as string, Number(match[2]));
    const stats = await redis.info('stats');
    const num = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
    return {
      at: performance.now(),
      decisions,
      xactCommit: Number(stat?.xact_commit ?? 0),
      xactRollback: Number(stat?.xact_rollback ?? 0),
      tupInserted: Number(stat?.tup_inserted ?? 0),
      dbBytes: Number(size?.size ?? 0),
      walLsn: size?.lsn ?? '0/0',
      pgCpu: backends.reduce((sum, pid) => sum + cpuTicks(pid), 0),
      redis: commands,
      redisIn: num('total_net_input_bytes'),
      redisOut: num('total_net_output_bytes'),
      redisCpu: cpuTicks(redisServer.pid as number),
      serverCpu: instances.reduce((sum, instance) => sum + cpuTicks(instance.process.pid as number), 0),
      loopCpu: instances.reduce((sum, instance) => sum + cpuTicks(instance.process.pid as number, true), 0),
    };
  };
  const walBytes = async (from: string, to: string) => Number((await admin.query<{ d: string }>('SELECT pg_wal_lsn_diff($1, $2) AS d', [to, from])).rows[0]?.d ?? 0);

  // Warm-up, then an idle window (background polls), then the timed window under load.
  await Promise.all(instances.map((instance) => load('wrk', { kind: 'airlock', url: `${instance.url}/v1/decide`, key }, 3)));
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const idle0 = await snapshot();
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  const idle1 = await snapshot();
  const before = await snapshot();
  const results = await Promise.all(instances.map((instance) => load('wrk', { kind: 'airlock', url: `${instance.url}/v1/decide`, key }, SECONDS)));
  const after = await snapshot();

  const decisions = after.decisions - before.decisions;
  const answered = results.reduce((sum, r) => sum + r.requests, 0);
  const failed = results.reduce((sum, r) => sum + r.failed, 0);
  const scale = (after.at - before.at) / (idle1.at - idle0.at);
  const per = (value: number) => value / decisions;
  const idleCommits = (idle1.xactCommit - idle0.xactCommit) * scale;
  const commits = after.xactCommit - before.xactCommit - idleCommits;
  const wal = await walBytes(before.walLsn, after.walLsn);
  const redisDelta = [...after.redis].map(([name, calls]) => [name, calls - (before.redis.get(name) ?? 0) - ((idle1.redis.get(name) ?? 0) - (idle0.redis.get(name) ?? 0)) * scale] as const).filter(([name, n]) => n > 0 && name !== 'info');
  const redisCalls = redisDelta.reduce((sum, [, n]) => sum + n, 0);

  console.log(`Capacity inputs — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${load0.toFixed(1)} at start, ${(loadavg()[0] ?? 0).toFixed(1)} at end`);
  console.log(`${INSTANCES} instances on PostgreSQL ${(await admin.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? ''} (database ${run}) + redis-server (port ${redisPort}, this run's alone); wrk 1 thread × 50 connections per instance, ${SECONDS} s\n`);
  console.log(`decisions audited in the window: ${decisions} (wrk answered ${answered}, failed ${failed}); ${Math.round(decisions / ((after.at - before.at) / 1000))}/s in all`);
  console.log(`server CPU: ${per((after.serverCpu - before.serverCpu) * TICK_US).toFixed(1)} µs per decision (every thread of every instance), of which the event loops ${per((after.loopCpu - before.loopCpu) * TICK_US).toFixed(1)} µs`);
  console.log(`PostgreSQL: ${per(commits).toFixed(4)} commits per decision (${Math.round(commits)} in the window after ${Math.round(idleCommits)} idle-background ones; ${after.xactRollback - before.xactRollback} rollbacks), i.e. ${(decisions / commits).toFixed(1)} decisions per commit`);
  console.log(`PostgreSQL: ${per(after.tupInserted - before.tupInserted).toFixed(2)} rows inserted, ${per(after.dbBytes - before.dbBytes).toFixed(0)} bytes of database growth and ≤ ${per(wal).toFixed(0)} WAL bytes per decision; backends' CPU ${per((after.pgCpu - before.pgCpu) * TICK_US).toFixed(1)} µs per decision`);
  console.log(`Redis: ${per(redisCalls).toFixed(3)} commands per decision (${redisDelta.map(([name, n]) => `${name} ${per(n).toFixed(3)}`).join(', ')}); ${per(after.redisIn - before.redisIn).toFixed(0)} bytes in, ${per(after.redisOut - before.redisOut).toFixed(0)} out; redis-server CPU ${per((after.redisCpu - before.redisCpu) * TICK_US).toFixed(1)} µs per decision`);
  console.log(`per instance: ${results.map((r) => `${Math.round(r.perSecond)}/s p99 ${r.p99ms.toFixed(1)} ms`).join('; ')}`);
  redis.disconnect();
} finally {
  for (const instance of instances) {
    await new Promise<void>((resolve) => {
      if (instance.process.exitCode !== null) return resolve();
      instance.process.removeAllListeners('exit');
      instance.process.once('exit', () => resolve());
      instance.process.kill('SIGTERM');
    });
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  await db.end().catch(() => undefined);
  await admin.query(`DROP DATABASE IF EXISTS ${run} WITH (FORCE)`);
  await admin.end();
  redisServer.kill('SIGTERM');
  rmSync(redisDir, { recursive: true, force: true });
}
