import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, platform, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { jsonSchema, tool } from 'ai';
import { median, measure, type Measurement, type Plan } from './measure.js';
import { Airlock, createAirlock, governTools, OutcomeBatcher, type ExecutionOutcome, type Transport } from './sdk.js';
import { tracerProvider } from './tracing.js';
import { asBuilt, removeUntraced, untraced } from './untraced.js';

/**
 * `npm run bench:sdk`: what governing a tool call costs the agent. The same tool function is
 * timed unguarded, through `airlock.guard` in local mode (with and without the JSONL audit file),
 * through the Vercel AI SDK adapter's `execute` (which adds the idempotency key of the tool call),
 * through `guard` against an Airlock server on loopback, and in edge mode against that server. Contenders alternate over ROUNDS
 * rounds so a slow patch of the machine hits all of them; each figure is the median round. The
 * call is `get_account`, which the customer-support seed policy allows with no limit, so every
 * row times the path on which the tool runs. Reports, never gates: exit 0 whatever the numbers.
 * Tracing rows: the same guard with OpenTelemetry on (`tracing: { tracerProvider }`, spans ended
 * and handed to an exporter that drops them, the AsyncLocalStorage context manager registered, as
 * an instrumented app has it) beside the default (off: never loaded), and the default beside the
 * same SDK with its tracing code cut out (`untraced.ts`): what tracing off costs, measured.
 */

const ROUNDS = 3;
const POLICY = fileURLToPath(new URL('../../examples/policies', import.meta.url));
const LOCAL: Plan = { warmupMs: 500, batches: 10, batchSize: 10_000, latencySamples: 50_000 };
const REMOTE: Plan = { warmupMs: 1_000, batches: 5, batchSize: 300, latencySamples: 2_000 };
/** Edge mode answers in-process, but every allow is sent to the server: fewer calls than LOCAL, so the spool stays small. */
const EDGE: Plan = { warmupMs: 200, batches: 5, batchSize: 2_000, latencySamples: 10_000 };
const TARGET_ADDED_P50_US = 5;
const TARGET_REMOTE_P99_MS = 3;

/** 256 accounts, built as a JSON parser would, cycled. */
const ARGS = Array.from({ length: 256 }, (_, i) => JSON.parse(JSON.stringify({ account_id: `A-${i}` })) as { account_id: string });
const args = (i: number) => ARGS[i & 255] as { account_id: string };
/** The tool being governed: a stand-in for a fast API client call. */
const getAccount = async ({ account_id }: { account_id: string }) => ({ id: account_id, plan: 'pro' });

interface Contender {
  label: string;
  plan: Plan;
  /** Builds a fresh client (and audit file) for one round. */
  start(): Promise<{ call: (i: number) => Promise<unknown>; close: () => Promise<void> }>;
}

function local(audit: boolean, traced = false, sdk: { createAirlock: typeof createAirlock } = { createAirlock }): Contender['start'] {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-sdk-'));
    const airlock = sdk.createAirlock({
      policy: POLICY,
      agent: 'bench-bot-1',
      role: 'support',
      audit: audit ? join(dir, 'audit.jsonl') : false,
      watch: false,
      ...(traced ? { tracing: { tracerProvider } } : {}),
    });
    const guarded = airlock.guard('get_account', getAccount);
    return { call: (i) => guarded(args(i)), close: async () => (await airlock.close(), rmSync(dir, { recursive: true, force: true })) };
  };
}

/**
 * Outcome reporting alone (docs/outcomes.md): a transport that answers every decide with the same
 * allow at once, with and without the remote batcher behind `reportOutcome` (its POST replaced by
 * a resolved promise). The difference between the two rows is what reporting adds on the tool's
 * path in remote mode: two clock reads and a push; the digest and the request are made in the batch.
 */
function stubbed(reporting: boolean): Contender['start'] {
  return async () => {
    const decision = { id: 'dec_bench', at: new Date().toISOString(), effect: 'allow', rule: 'get-account', reason: '', decidedBy: 'rule', matched: [], limits: [], flagged: false, risk: { score: 0, level: 'low' }, policy: { bundle: '', version: 1, policies: [] } };
    const batcher = new OutcomeBatcher({ send: async () => undefined });
    const transport = {
      decide: async () => decision,
      waitForApproval: async () => ({ id: '', status: 'denied', args: {} }),
      redeem: async () => ({ id: '', status: 'denied', args: {} }),
      tools: async () => [],
      recordFailOpen: () => undefined,
      close: () => batcher.close(),
      ...(reporting ? { reportOutcome: (outcome: ExecutionOutcome) => batcher.push(outcome) } : {}),
    } as unknown as Transport;
    const airlock = new Airlock({ url: 'http://127.0.0.1:1', apiKey: 'unused' }, transport);
    const guarded = airlock.guard('get_account', getAccount);
    return { call: (i) => guarded(args(i)), close: () => airlock.close() };
  };
}

/** The AI SDK adapter's `execute` in local mode, from the built SDK or the copy without tracing code. */
function aiSdk(audit: boolean, sdk: { createAirlock: typeof createAirlock; governTools: typeof governTools } = { createAirlock, governTools }): Contender['start'] {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-sdk-'));
    const airlock = sdk.createAirlock({ policy: POLICY, agent: 'bench-bot-1', role: 'support', audit: audit ? join(dir, 'audit.jsonl') : false, watch: false });
    const inputSchema = jsonSchema<{ account_id: string }>({ type: 'object', properties: { account_id: { type: 'string' } }, required: ['account_id'] });
    const execute = sdk.governTools(airlock, { get_account: tool({ inputSchema, execute: getAccount }) }).get_account.execute;
    if (!execute) throw new Error('the governed tool lost its execute');
    return {
      call: (i) => Promise.resolve(execute(args(i), { toolCallId: `call-${i}`, messages: [] })),
      close: async () => (await airlock.close(), rmSync(dir, { recursive: true, force: true })),
    };
  };
}

const contenders: Contender[] = [
  { label: 'tool function, unguarded', plan: LOCAL, start: async () => ({ call: (i) => getAccount(args(i)), close: async () => undefined }) },
  { label: 'guard, local, no audit file', plan: LOCAL, start: local(false) },
  { label: 'guard, local, JSONL audit', plan: LOCAL, start: local(true) },
  { label: 'guard, local, no audit file, tracing on', plan: LOCAL, start: local(false, true) },
  { label: 'guard, stub transport, outcomes off', plan: LOCAL, start: stubbed(false) },
  { label: 'guard, stub transport, outcomes batched', plan: LOCAL, start: stubbed(true) },
  { label: 'ai-sdk adapter execute, local, JSONL audit', plan: LOCAL, start: aiSdk(true) },
  { label: 'guard, local, no audit file, tracing off (fresh copy)', plan: LOCAL, start: local(false, false, asBuilt) },
  { label: 'guard, local, no audit file, tracing code absent', plan: LOCAL, start: local(false, false, untraced) },
  { label: 'ai-sdk adapter execute, local, no audit file, tracing off (fresh copy)', plan: LOCAL, start: aiSdk(false, asBuilt) },
  { label: 'ai-sdk adapter execute, local, no audit file, tracing code absent', plan: LOCAL, start: aiSdk(false, untraced) },
];

interface Server {
  process: ChildProcess;
  url: string;
  key: string;
  dataDir: string;
}

/** The server in a child process; undefined (with the reason printed) when it cannot start. */
async function startServer(): Promise<Server | undefined> {
  const dataDir = mkdtempSync(join(tmpdir(), 'airlock-bench-sdk-server-'));
  const child = spawn(process.execPath, [...(process.env.BENCH_SDK_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []), '--import', 'tsx', fileURLToPath(new URL('./remote-server.ts', import.meta.url)), dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TSX_TSCONFIG_PATH: fileURLToPath(new URL('../../packages/server/tsconfig.json', import.meta.url)) },
  });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the server exited with ${String(code)}`)));
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve);
    });
    child.removeAllListeners('exit');
    return { process: child, dataDir, ...(JSON.parse(line) as { url: string; key: string }) };
  } catch (error) {
    process.stderr.write(`remote mode left out: ${(error as Error).message}\n`);
    rmSync(dataDir, { recursive: true, force: true });
    return undefined;
  }
}

const server = await startServer();
if (server) {
  contenders.push({
    label: 'guard, remote (server on loopback)',
    plan: REMOTE,
    start: async () => {
      const airlock = createAirlock({ url: server.url, apiKey: server.key });
      const guarded = airlock.guard('get_account', getAccount);
      return { call: (i) => guarded(args(i)), close: () => airlock.close() };
    },
  });
  contenders.push({
    label: 'guard, remote (server on loopback), tracing on',
    plan: REMOTE,
    start: async () => {
      const airlock = createAirlock({ url: server.url, apiKey: server.key, tracing: { tracerProvider } });
      const guarded = airlock.guard('get_account', getAccount);
      return { call: (i) => guarded(args(i)), close: () => airlock.close() };
    },
  });
  // The same with outcome reporting off: the server's cost of recording the outcome batches shows
  // as the difference between the two rows' p50 (measured in the same run, rounds alternating).
  contenders.push({
    label: 'guard, remote, outcome reporting off',
    plan: REMOTE,
    start: async () => {
      const airlock = createAirlock({ url: server.url, apiKey: server.key, outcomes: false });
      const guarded = airlock.guard('get_account', getAccount);
      return { call: (i) => guarded(args(i)), close: () => airlock.close() };
    },
  });
  // Edge mode: the same server; allows answered in-process, spooled to a file, sent in batches.
  contenders.push({
    label: 'guard, edge (spooled, server on loopback)',
    plan: EDGE,
    start: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-sdk-edge-'));
      // maxPending above the calls of a round: every call of the row takes the in-process path.
      const airlock = createAirlock({ url: server.url, apiKey: server.key, edge: { spool: dir, maxPending: 1_000_000 } });
      const edge = airlock.transport as unknown as { ready: Promise<void>; stats: { local: number; remote: number; recorded: number } };
      await edge.ready;
      const guarded = airlock.guard('get_account', getAccount);
      return {
        call: (i) => guarded(args(i)),
        close: async () => {
          await airlock.close();
          rmSync(dir, { recursive: true, force: true });
          process.stderr.write(`  edge: ${edge.stats.local} answered in-process, ${edge.stats.remote} by the server, ${edge.stats.recorded} recorded by the server\n`);
        },
      };
    },
  });
}

// BENCH_SDK_ONLY=<regexp>: only the rows whose label matches (e.g. 'remote' for the two remote rows); the first row stays as the base.
const only = process.env.BENCH_SDK_ONLY ? new RegExp(process.env.BENCH_SDK_ONLY) : undefined;
if (only) contenders.splice(1, contenders.length - 1, ...contenders.slice(1).filter((contender) => only.test(contender.label)));
const started = Date.now();
const results = contenders.map(() => [] as Measurement[]);
for (let round = 1; round <= ROUNDS; round++) {
  for (const [c, contender] of contenders.entries()) {
    process.stderr.write(`round ${round}/${ROUNDS}: ${contender.label}\n`);
    const { call, close } = await contender.start();
    const probe = await call(0);
    if (typeof probe !== 'object' || probe === null || (probe as { id?: unknown }).id !== 'A-0') throw new Error(`${contender.label} did not run the tool: ${JSON.stringify(probe)}`);
    results[c]?.push(await measure(call, contender.plan));
    await close();
  }
}
removeUntraced();
if (server) {
  server.process.kill('SIGTERM');
  await new Promise((resolve) => server.process.once('exit', resolve));
  rmSync(server.dataDir, { recursive: true, force: true });
}

const summary = results.map((rounds) => ({
  callsPerSec: median(rounds.map((r) => r.callsPerSec).sort((a, b) => a - b)),
  p50Us: median(rounds.map((r) => r.p50Us).sort((a, b) => a - b)),
  p99Us: median(rounds.map((r) => r.p99Us).sort((a, b) => a - b)),
}));
const base = summary[0] as (typeof summary)[number];
const header = ['contender', 'calls/s', 'p50 µs', 'p99 µs', 'added p50 µs'];
const rows = contenders.map((contender, c) => {
  const s = summary[c] as (typeof summary)[number];
  return [contender.label, Math.round(s.callsPerSec).toLocaleString('en-US'), s.p50Us.toFixed(2), s.p99Us.toFixed(2), c === 0 ? '-' : (s.p50Us - base.p50Us).toFixed(2)];
});
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ');
console.log(`${new Date().toISOString()}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, ${platform()} ${release()}, node ${process.version}; ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
console.log([line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n'));
console.log('');
for (const c of [1, 2]) {
  if (!summary[c] || !contenders[c]?.label.startsWith('guard, local')) continue;
  const added = summary[c].p50Us - base.p50Us;
  console.log(`target: ${contenders[c]?.label} adds < ${TARGET_ADDED_P50_US} µs at p50: ${added.toFixed(2)} µs ${added < TARGET_ADDED_P50_US ? 'PASS' : 'FAIL'}`);
}
const at = (label: string) => summary[contenders.findIndex((contender) => contender.label === label)];
const stubOff = at('guard, stub transport, outcomes off');
const stubOn = at('guard, stub transport, outcomes batched');
if (stubOff && stubOn) {
  const added = stubOn.p50Us - stubOff.p50Us;
  console.log(`target: outcome reporting adds < 2 µs on the tool's path (remote batcher) at p50: ${added.toFixed(2)} µs ${added < 2 ? 'PASS' : 'FAIL'}`);
}
const remoteOn = at('guard, remote (server on loopback)');
const remoteOff = at('guard, remote, outcome reporting off');
if (remoteOn && remoteOff) {
  console.log(`remote decide p50 with outcome reporting on / off: ${(remoteOn.p50Us / 1000).toFixed(3)} ms / ${(remoteOff.p50Us / 1000).toFixed(3)} ms (ratio ${(remoteOn.p50Us / remoteOff.p50Us).toFixed(2)})`);
}
const remote = contenders.findIndex((contender) => contender.label.startsWith('guard, remote'));
if (remote >= 0 && summary[remote]) {
  const p99 = (summary[remote] as (typeof summary)[number]).p99Us / 1000;
  console.log(`target: guard, remote p99 < ${TARGET_REMOTE_P99_MS} ms: ${p99.toFixed(2)} ms ${p99 < TARGET_REMOTE_P99_MS ? 'PASS' : 'FAIL'}`);
}
for (const [off, on] of [
  ['guard, local, no audit file', 'guard, local, no audit file, tracing on'],
  ['guard, remote (server on loopback)', 'guard, remote (server on loopback), tracing on'],
]) {
  const [a, b] = [contenders.findIndex((c) => c.label === off), contenders.findIndex((c) => c.label === on)];
  if (a < 0 || b < 0) continue;
  const [sa, sb] = [summary[a] as (typeof summary)[number], summary[b] as (typeof summary)[number]];
  console.log(`tracing on adds to ${off}: ${(sb.p50Us - sa.p50Us).toFixed(2)} µs at p50 (${(sa.callsPerSec / sb.callsPerSec).toFixed(2)}× the time per call); off, OpenTelemetry is not loaded`);
}
for (const [absent, off] of [
  ['guard, local, no audit file, tracing code absent', 'guard, local, no audit file, tracing off (fresh copy)'],
  ['ai-sdk adapter execute, local, no audit file, tracing code absent', 'ai-sdk adapter execute, local, no audit file, tracing off (fresh copy)'],
]) {
  const [sa, sb] = [at(absent as string), at(off as string)];
  if (!sa || !sb) continue;
  console.log(`tracing off vs tracing code absent, ${off}: ${(sb.p50Us - sa.p50Us).toFixed(2)} µs at p50, ${(sa.callsPerSec / sb.callsPerSec).toFixed(3)}× the time per call`);
}
if (!server) console.log('remote mode: left out (the server did not start; reason above)');
