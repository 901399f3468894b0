/**
 * A/B of the decide path's server CPU cost: two builds of Airlock side by side, each the built
 * server in its own process (`airlock-server.ts` of its tree, `@airlock/server` resolved to that
 * tree's dist), loaded in alternating rounds by wrk with the bench:server request (a $20 refund to
 * a new account each call). What it reports is server CPU per decision, read from
 * /proc/<pid>/stat (utime + stime of every thread) and /proc/<pid>/task/<tid>/stat (the event loop
 * thread alone, and the audit writer thread) before and after each round, divided by the decisions
 * answered in the round. On a loaded, shared machine this is steadier than decisions/s: a
 * neighbour that takes the CPU lowers req/s but not the CPU each decision costs.
 *
 *   npx tsx bench/server/ab.ts <tree A> <tree B>
 *
 * Each tree is a built checkout (`npm run build`): e.g. a copy of main's build in /tmp and this one.
 * BENCH_SECONDS (5) per round, BENCH_ROUNDS (4), BENCH_WARMUP_SECONDS (3).
 * BENCH_PROFILE=<dir>: run both servers with --cpu-prof into that directory.
 * BENCH_NODE_FLAGS_A / BENCH_NODE_FLAGS_B: node flags for one build's server only (e.g.
 * `--max-semi-space-size=64`), so a runtime setting can be A/B'd on the same tree given twice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { load } from './load.js';
import { ADMIN_PASSWORD, benchKey } from './admin.js';
import { median as med } from '../stats.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const TICK_US = 1e6 / 100; // USER_HZ is 100 on Linux

interface Server {
  name: string;
  process: ChildProcess;
  url: string;
  key: string;
  dir: string;
}

function launch(tree: string, dataDir: string, nodeFlags: string): Promise<{ process: ChildProcess; url: string }> {
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const flags = nodeFlags.split(' ').filter((flag) => flag !== '');
  const child = spawn(process.execPath, [...profile, ...flags, '--import', 'tsx', join(tree, 'bench/server/airlock-server.ts'), dataDir], {
    cwd: tree,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, AIRLOCK_ADMIN_PASSWORD: ADMIN_PASSWORD, TSX_TSCONFIG_PATH: join(tree, 'packages/server/tsconfig.json') },
  });
  return new Promise((done, reject) => {
    child.once('exit', (code) => reject(new Error(`${tree}: server exited with ${String(code)}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', (line) => done({ process: child, url: (JSON.parse(line) as { url: string }).url }));
  });
}



/** utime + stime in clock ticks: [whole process, event loop thread, busiest other thread]. */
function ticks(pid: number): { all: number; main: number; threads: Map<string, number> } {
  const read = (path: string) => {
    const text = readFileSync(path, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ticks: Number(fields[11]) + Number(fields[12]), name: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')) };
  };
  const threads = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const t = read(`/proc/${pid}/task/${tid}/stat`);
    threads.set(`${t.name}#${tid}`, t.ticks);
  }
  return { all: read(`/proc/${pid}/stat`).ticks, main: read(`/proc/${pid}/task/${pid}/stat`).ticks, threads };
}

interface Round {
  perSecond: number;
  decisions: number;
  allUs: number;
  mainUs: number;
  writerUs: number;
  p99ms: number;
}

const trees = process.argv.slice(2, 4).map((tree) => resolve(tree));
if (trees.length !== 2) throw new Error('usage: tsx bench/server/ab.ts <tree A> <tree B>');
const servers: Server[] = [];
const load0 = loadavg()[0] ?? 0;
try {
  for (const [i, tree] of trees.entries()) {
    const dir = mkdtempSync(join(tmpdir(), `airlock-ab-${i}-`));
    const child = await launch(tree as string, dir, process.env[i === 0 ? 'BENCH_NODE_FLAGS_A' : 'BENCH_NODE_FLAGS_B'] ?? '');
    servers.push({ name: i === 0 ? 'A' : 'B', ...child, dir, key: await benchKey(child.url) });
  }
  for (const server of servers) await load('wrk', { kind: 'airlock', url: `${server.url}/v1/decide`, key: server.key }, WARMUP_SECONDS);
  const rounds: Record<string, Round[]> = { A: [], B: [] };
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which goes first, so neither always follows the other's GC debt.
    const order = round % 2 === 0 ? servers : [...servers].reverse();
    for (const server of order) {
      const pid = server.process.pid as number;
      const before = ticks(pid);
      const result = await load('wrk', { kind: 'airlock', url: `${server.url}/v1/decide`, key: server.key }, SECONDS);
      const after = ticks(pid);
      const decisions = result.requests;
      // The writer thread is the non-main thread whose CPU grew the most (V8's and libuv's helpers grow less).
      let writer = 0;
      for (const [name, t] of after.threads) if (!name.endsWith(`#${pid}`)) writer = Math.max(writer, t - (before.threads.get(name) ?? 0));
      const r: Round = {
        perSecond: result.perSecond,
        decisions,
        allUs: ((after.all - before.all) * TICK_US) / decisions,
        mainUs: ((after.main - before.main) * TICK_US) / decisions,
        writerUs: (writer * TICK_US) / decisions,
        p99ms: result.p99ms,
      };
      rounds[server.name]?.push(r);
      console.error(`[ab] round ${round + 1} ${server.name}: ${Math.round(r.perSecond)}/s, ${r.allUs.toFixed(1)} µs CPU/decision (event loop ${r.mainUs.toFixed(1)}, writer ${r.writerUs.toFixed(1)}), p99 ${r.p99ms.toFixed(1)} ms`);
    }
  }
  console.log(`A/B decide — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${load0.toFixed(1)} at start, ${(loadavg()[0] ?? 0).toFixed(1)} at end`);
  console.log(`wrk 1 thread, 50 connections, ${ROUNDS} alternating rounds of ${SECONDS} s; A = ${trees[0]}, B = ${trees[1]}\n`);
  console.log('| build | decisions/s | CPU µs/decision (all threads) | event loop µs | writer thread µs | p99 |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const name of ['A', 'B']) {
    const rs = rounds[name] ?? [];
    console.log(`| ${name} | ${Math.round(med(rs.map((r) => r.perSecond)))} | ${med(rs.map((r) => r.allUs)).toFixed(1)} | ${med(rs.map((r) => r.mainUs)).toFixed(1)} | ${med(rs.map((r) => r.writerUs)).toFixed(1)} | ${med(rs.map((r) => r.p99ms)).toFixed(1)} ms |`);
  }
  const pairs = (rounds.A ?? []).map((a, i) => `${((rounds.B?.[i]?.allUs ?? Number.NaN) / a.allUs).toFixed(2)}×`);
  console.log(`\nB ÷ A CPU µs per decision by round: ${pairs.join(' / ')}`);
  console.log(`rounds A µs: ${(rounds.A ?? []).map((r) => r.allUs.toFixed(0)).join(' / ')}; B µs: ${(rounds.B ?? []).map((r) => r.allUs.toFixed(0)).join(' / ')}`);
} finally {
  for (const server of servers) {
    await new Promise<void>((done) => {
      if (server.process.exitCode !== null) return done();
      server.process.removeAllListeners('exit');
      server.process.once('exit', () => done());
      server.process.kill('SIGTERM');
    });
    rmSync(server.dir, { recursive: true, force: true });
  }
}
