import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

/**
 * The load generator of bench:server. wrk (1 thread, C, a Lua script per request) costs the shared
 * two cores far less per request than autocannon (Node): the ceiling route measured 74 % of hello
 * world under autocannon because the generator competed with the server for CPU. wrk comes from
 * Debian (`apt-get install wrk`): the bench installs it when it runs as root on a machine with
 * apt-get, and otherwise falls back to autocannon (or when BENCH_LOADGEN=autocannon).
 */

export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
  /** Connection errors, timeouts and non-2xx/3xx answers. */
  failed: number;
}

export type Target = { kind: 'get'; url: string } | { kind: 'airlock'; url: string; key: string } | { kind: 'cerbos'; url: string };

export const CONNECTIONS = 50;
const SCRIPT = fileURLToPath(new URL('./wrk-load.lua', import.meta.url));

function hasWrk(): boolean {
  return spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
}

/** 'wrk' when it is (or could be made) available, else 'autocannon'. */
export function chooseLoadGenerator(log: (line: string) => void): 'wrk' | 'autocannon' {
  if (process.env.BENCH_LOADGEN === 'autocannon') return 'autocannon';
  if (hasWrk()) return 'wrk';
  if (process.getuid?.() === 0 && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).error === undefined) {
    log('wrk is missing: apt-get install -y wrk');
    const install = () => spawnSync('apt-get', ['install', '-y', '-q', 'wrk'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
    if (!install()) {
      execFileSync('apt-get', ['update', '-q'], { stdio: 'ignore' });
      install();
    }
    if (hasWrk()) return 'wrk';
  }
  log('wrk is not available: falling back to autocannon (a heavier load generator on a shared machine)');
  return 'autocannon';
}

let round = 0;

function runWrk(target: Target, seconds: number): Promise<LoadResult> {
  const prefix = `R${++round}`;
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--timeout', '10s', '-s', SCRIPT, target.kind === 'cerbos' ? `${target.url}/api/check/resources` : target.url, '--', target.kind, prefix];
  if (target.kind === 'airlock') args.push(target.key);
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('BENCH_JSON '));
      if (code !== 0 || !line) return reject(new Error(`wrk exited with ${String(code)}:\n${out}`));
      const r = JSON.parse(line.slice('BENCH_JSON '.length)) as Record<string, number>;
      const n = (k: string) => r[k] ?? 0;
      const secondsRun = n('duration_us') / 1e6;
      resolve({
        requests: n('requests'),
        seconds: secondsRun,
        perSecond: n('requests') / secondsRun,
        p50ms: n('p50_us') / 1000,
        p99ms: n('p99_us') / 1000,
        failed: n('connect') + n('read') + n('write') + n('status') + n('timeout'),
      });
    });
  });
}

async function runAutocannon(target: Target, seconds: number): Promise<LoadResult> {
  const prefix = `R${++round}`;
  let n = 0;
  const body =
    target.kind === 'airlock'
      ? () => `{"tool":"issue_refund","args":{"account_id":"BENCH-${prefix}-${++n}","amount":20,"currency":"USD"}}`
      : () => {
          const id = `BENCH-${prefix}-${++n}`;
          return `{"requestId":"${id}","principal":{"id":"bench-bot-1","roles":["support"]},"resources":[{"actions":["issue_refund","issue_refund_with_approval"],"resource":{"kind":"tool_call","id":"${id}","attr":{"amount":20}}}]}`;
        };
  const result =
    target.kind === 'get'
      ? await autocannon({ url: target.url, connections: CONNECTIONS, duration: seconds })
      : await autocannon({
          url: target.kind === 'cerbos' ? `${target.url}/api/check/resources` : target.url,
          connections: CONNECTIONS,
          duration: seconds,
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(target.kind === 'airlock' ? { authorization: `Bearer ${target.key}` } : {}) },
          requests: [{ setupRequest: (request) => ({ ...request, body: body() }) }],
        });
  return {
    requests: result.requests.total,
    seconds: result.duration,
    perSecond: result.requests.average,
    p50ms: result.latency.p50,
    p99ms: result.latency.p99,
    failed: result.errors + result.timeouts + result.non2xx,
  };
}

export function load(generator: 'wrk' | 'autocannon', target: Target, seconds: number): Promise<LoadResult> {
  return generator === 'wrk' ? runWrk(target, seconds) : runAutocannon(target, seconds);
}
