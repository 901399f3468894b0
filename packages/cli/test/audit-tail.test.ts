import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@airlock/server';

const BIN = 'packages/cli/bin/airlock.js';
const PASSWORD = 'audit tail test password';

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string>): { child: ChildProcess; done: Promise<Result>; stdout: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, AIRLOCK_USER: '', AIRLOCK_PASSWORD: '', AIRLOCK_URL: '', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<Result>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
  return { child, done, stdout: () => stdout };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function recordDecisions(server: RunningServer, key: string, count: number, prefix: string): Promise<void> {
  const decisions = Array.from({ length: count }, (_, i) => ({ id: `${prefix}-${i}`, at: Date.now(), version: 1, rule: null, call: { tool: 'get_account', args: { account_id: `A-${i}` } } }));
  const response = await fetch(`${server.url}/v1/edge/decisions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ decisions }),
  });
  expect(response.status).toBe(200);
}

function seqs(ndjson: string): number[] {
  return ndjson
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (JSON.parse(line) as { seq: number }).seq);
}

async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('airlock audit tail', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-cli-tail-'));
  let server: RunningServer;
  let port: number;
  let login: Record<string, string>;
  let key: string;
  const start = () => startServer({ dataDir: dir, port, adminPassword: PASSWORD, print: () => undefined, logError: () => undefined, heartbeatMs: 200 });

  beforeAll(async () => {
    port = await freePort();
    server = await start();
    login = { AIRLOCK_URL: server.url, AIRLOCK_USER: 'admin', AIRLOCK_PASSWORD: PASSWORD };
    key = server.seeded.demoKeys?.find((k) => k.agent === 'support-bot-1')?.key ?? '';
    await recordDecisions(server, key, 30, 'first');
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints every record as NDJSON from the first, verified, and exits 0 at the end without --follow', async () => {
    const result = await run(['audit', 'tail', '--json'], login).done;
    expect(result.status, result.stderr).toBe(0);
    const printed = seqs(result.stdout);
    expect(printed.length).toBeGreaterThanOrEqual(30);
    expect(printed).toEqual(printed.map((_, i) => i + 1));
    const after = await run(['audit', 'tail', '--after', '20'], login).done;
    expect(after.status, after.stderr).toBe(0);
    expect(after.stdout.split('\n')[0]).toMatch(/^21 {2}\S+ {2}\S+/);
  });

  it('acts with a personal API token (AIRLOCK_TOKEN) as the other people commands do; a revoked token exits 1', async () => {
    const signIn = await fetch(`${server.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const { csrfToken } = (await signIn.json()) as { csrfToken: string };
    const created = await fetch(`${server.url}/v1/tokens`, {
      method: 'POST',
      headers: { cookie, 'x-airlock-csrf': csrfToken, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'siem', role: 'viewer' }),
    });
    expect(created.status).toBe(201);
    const { token, id } = (await created.json()) as { token: string; id: string };
    const tokenEnv = { AIRLOCK_URL: server.url, AIRLOCK_TOKEN: token, XDG_CONFIG_HOME: dir };
    const result = await run(['audit', 'tail', '--json'], tokenEnv).done;
    expect(result.status, result.stderr).toBe(0);
    expect(seqs(result.stdout).slice(0, 3)).toEqual([1, 2, 3]);
    await fetch(`${server.url}/v1/tokens/${id}`, { method: 'DELETE', headers: { cookie, 'x-airlock-csrf': csrfToken } });
    const refused = await run(['audit', 'tail', '--follow'], tokenEnv).done;
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('refused the token');
  });

  it('with --follow, resumes after the last printed seq when the server restarts: nothing twice, nothing skipped', async () => {
    const tail = run(['audit', 'tail', '--follow', '--json'], login);
    await recordDecisions(server, key, 50, 'before-restart');
    const newest = await newestRecord();
    await until(() => seqs(tail.stdout()).includes(newest?.seq ?? -1), 'the records before the restart');
    await server.close();
    server = await start();
    await recordDecisions(server, key, 50, 'after-restart');
    const head = await newestRecord();
    await until(() => seqs(tail.stdout()).includes(head?.seq ?? -1), 'the records after the restart');
    tail.child.kill('SIGINT');
    const result = await tail.done;
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain('reconnecting');
    const printed = seqs(result.stdout);
    expect(printed).toEqual(printed.map((_, i) => i + 1));
    expect(printed[printed.length - 1]).toBe(head?.seq);
  }, 60_000);

  it('exits 1 naming the record whose content was changed, and the record after one re-sealed', async () => {
    const db = new Database(server.databaseFile);
    const row = db.prepare('SELECT seq, payload, prev_hash FROM audit WHERE seq = 10').get() as { seq: number; payload: string; prev_hash: string };
    // Backdated by a millennium: still canonical JSON, so a re-sealed copy verifies in itself.
    const edited = row.payload.replace(/"at":"2/, '"at":"1');
    expect(edited).not.toBe(row.payload);
    db.prepare('UPDATE audit SET payload = ? WHERE seq = 10').run(edited);
    db.close();
    const changed = await run(['audit', 'tail', '--json'], login).done;
    expect(changed.status).toBe(1);
    expect(changed.stderr).toContain('CHAIN BROKEN at seq 10: record 10 does not match its hash');
    // Everything before the damage was printed, nothing after it.
    expect(seqs(changed.stdout)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);

    // Re-sealed: its hash recomputed to match the edit; the next record no longer links to it.
    const again = new Database(server.databaseFile);
    again.prepare('UPDATE audit SET hash = ? WHERE seq = 10').run(createHash('sha256').update(row.prev_hash + edited).digest('hex'));
    again.close();
    const resealed = await run(['audit', 'tail', '--json'], login).done;
    expect(resealed.status).toBe(1);
    expect(resealed.stderr).toContain('CHAIN BROKEN at seq 11: record 11 does not link to record 10');
    expect(seqs(resealed.stdout)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  async function newestRecord(): Promise<{ seq: number } | undefined> {
    const login = await fetch(`${server.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const page = (await (await fetch(`${server.url}/v1/audit?limit=1`, { headers: { cookie } })).json()) as { records: { seq: number }[] };
    return page.records[0];
  }
});
