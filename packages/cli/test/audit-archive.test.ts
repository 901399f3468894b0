import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_FILE, startServer, verifyAuditFile, type RunningServer } from '@airlock/server';
import { ManualClock } from '../../server/test/support/manual-clock.js';
import { airlock, BIN } from './support/airlock.js';

const PASSWORD = 'archive test admin password';
const DAY = 24 * 60 * 60 * 1000;

/** Reads a database file with a query, read-only. */
function read<T>(file: string, query: string): T[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(query).all() as T[];
  } finally {
    db.close();
  }
}

/**
 * `airlock audit archive` (docs/operations.md "Archiving old records"): the oldest records move to
 * a new file that verifies on its own, while the server keeps deciding; the trail goes on from
 * the last archived record and says so in itself; what limits may count and what a forwarder has
 * not delivered stay; several runs at once archive once; the files verify together as one history.
 */
describe('airlock audit archive', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-archive-'));
  const dataDir = join(dir, 'data');
  const db = join(dataDir, DATABASE_FILE);
  const out = join(dir, 'archive');
  // The trail begins 60 days ago and goes on 40 days ago; the CLI reads the system clock.
  const clock = new ManualClock(Date.now() - 60 * DAY);
  let server: RunningServer;
  let key: string;

  const start = async (): Promise<void> => {
    server = await startServer({ dataDir, port: 0, adminPassword: PASSWORD, clock, print: () => undefined, logError: () => undefined });
  };

  beforeAll(async () => {
    mkdirSync(out);
    await start();
    key = (server.seeded.demoKeys ?? []).find((k) => k.agent === 'support-bot-1')?.key as string;
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const decide = async (account: string, amount = 20): Promise<{ id: string; effect: string; rule: string | null }> => {
    const response = await fetch(`${server.url}/v1/decide`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tool: 'issue_refund', args: { account_id: account, amount, currency: 'USD' } }),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { id: string; effect: string; rule: string | null };
  };
  /** A session cookie of the admin, signed in now (the manual clock moves past sessions). */
  const adminCookie = async (): Promise<string> => {
    const login = await fetch(`${server.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
    expect(login.status).toBe(200);
    return (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
  };
  const verifyApi = async (): Promise<Record<string, unknown>> => (await (await fetch(`${server.url}/v1/audit/verify`, { headers: { cookie: await adminCookie() } })).json()) as Record<string, unknown>;
  const lastBefore = (ms: number) => read<{ seq: number; hash: string }>(db, `SELECT seq, hash FROM audit WHERE seq = (SELECT max(seq) FROM audit WHERE at < ${ms})`)[0] as { seq: number; hash: string };

  it('refuses what must stay, a file that exists and a bad date, and changes nothing', async () => {
    for (let i = 0; i < 30; i++) await decide(`OLD-${i}`);
    await clock.advance(20 * DAY);
    const before = read<{ n: number }>(db, 'SELECT count(*) AS n FROM audit')[0]?.n;

    const recent = await airlock('audit', 'archive', '--db', db, '--before', '3d', '--to', join(out, 'recent.db'));
    expect(recent.status, recent.stderr).toBe(2);
    expect(recent.stderr).toContain('records of the last 7 days stay in the trail');
    const bad = await airlock('audit', 'archive', '--db', db, '--before', 'last spring', '--to', join(out, 'bad.db'));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--before takes a date');
    const taken = join(dir, 'taken.db');
    writeFileSync(taken, 'not mine');
    const exists = await airlock('audit', 'archive', '--db', db, '--before', '50d', '--to', taken);
    expect(exists.status).toBe(2);
    expect(exists.stderr).toContain('an archive never replaces a file');
    expect(readFileSync(taken, 'utf8')).toBe('not mine');
    const none = await airlock('audit', 'archive', '--db', db, '--before', '90d', '--to', join(out, 'none.db'));
    expect(none.status, none.stderr).toBe(0);
    expect(none.stdout).toContain('Nothing to archive');

    expect(readdirSync(out)).toEqual([]);
    expect(read<{ n: number }>(db, 'SELECT count(*) AS n FROM audit')[0]?.n).toBe(before);
  });

  it('archives the old records while 50 callers keep deciding; each file verifies, and together they are the whole history', async () => {
    // Everything made 60 days ago is archived; what is made now (40 days ago) stays.
    const head = lastBefore(Date.now() - 50 * DAY);
    expect((await decide('NEW-first', 1)).effect).toBe('allow');
    let stop = false;
    let answered = 0;
    const callers = Array.from({ length: 50 }, async (_, i) => {
      while (!stop) {
        expect((await decide(`NEW-${i}`, 1)).effect).toBe('allow');
        answered++;
      }
    });
    const archive = join(out, 'to-50d.db');
    const result = await airlock('audit', 'archive', '--db', db, '--before', '50d', '--to', archive);
    stop = true;
    await Promise.all(callers);
    expect(result.status, result.stderr).toBe(0);
    expect(answered).toBeGreaterThan(0);
    expect(result.stdout).toContain(`Archived records 1–${head.seq} (${head.seq})`);
    expect(statSync(archive).mode & 0o777).toBe(0o600);

    const archived = await verifyAuditFile(archive);
    expect(archived).toMatchObject({ ok: true, records: head.seq, head: head.hash });
    // The server's trail starts after the archive, attests it, and keeps verifying (API and file).
    expect(read<{ n: number }>(db, `SELECT count(*) AS n FROM audit WHERE seq <= ${head.seq}`)[0]?.n).toBe(0);
    expect(read<{ n: number }>(db, `SELECT count(*) AS n FROM audit_args WHERE seq <= ${head.seq}`)[0]?.n).toBe(0);
    const live = await verifyApi();
    expect(live).toMatchObject({ ok: true, base: { seq: head.seq, hash: head.hash, file: 'to-50d.db' } });
    expect((live.base as { attestedBy: number }).attestedBy).toBeGreaterThan(head.seq);
    const together = await airlock('audit', 'verify', '--db', archive, '--db', db, '--expect-head', head.hash);
    expect(together.status, together.stdout + together.stderr).toBe(0);
    expect(together.stdout).toContain('in 2 files, from the first record');
    expect(together.stdout).toContain(`anchored head found at seq ${head.seq} (${archive})`);
    // Out of order, or with the archive missing, they do not.
    expect((await airlock('audit', 'verify', '--db', db, '--db', archive)).status).toBe(1);
  });

  it('a restarted server goes on from the base: its chain verifies and its counters still hold the recent charges', async () => {
    // $45 twice on one account now: the $100 24-hour budget holds $90.
    for (let i = 0; i < 2; i++) expect((await decide('KEEP-1', 45)).effect).toBe('allow');
    await server.close();
    await start();
    expect(await decide('KEEP-1', 45)).toMatchObject({ effect: 'require_approval', rule: 'refund-budget' });
    expect(await verifyApi()).toMatchObject({ ok: true, base: { file: 'to-50d.db' } });
  });

  it('of 10 archive runs at once, one archives; the others archive nothing or step back and remove their file', async () => {
    // The second generation (made 40 days ago), archived by whichever run wins. It stops before the
    // first archive's own record, made at the real now.
    const runs = await Promise.all(Array.from({ length: 10 }, (_, i) => airlock('audit', 'archive', '--db', db, '--before', '30d', '--to', join(out, `race-${i}.db`))));
    const archivedBy = runs.filter((run) => run.stdout.startsWith('Archived records'));
    expect(archivedBy, runs.map((run) => run.stdout + run.stderr).join('\n')).toHaveLength(1);
    for (const run of runs) {
      if (run.stdout.startsWith('Archived records')) continue;
      // Refused in the recording transaction (exit 1), or started after the winner: nothing left.
      expect(run.status === 1 ? run.stderr : run.stdout, `${run.status} ${run.stdout} ${run.stderr}`).toMatch(run.status === 1 ? /another archive ran meanwhile/ : /Nothing to archive/);
    }
    const files = readdirSync(out).filter((name) => name.startsWith('race-'));
    expect(files).toHaveLength(1);
    expect(read<{ n: number }>(db, 'SELECT count(*) AS n FROM audit_archives')[0]?.n).toBe(2);
    // The first archive's record (made after what this one archived) and the winner's: one each.
    expect(read<{ n: number }>(db, "SELECT count(*) AS n FROM audit WHERE type = 'audit.archived'")[0]?.n).toBe(2);
    const history = await airlock('audit', 'verify', '--db', join(out, 'to-50d.db'), '--db', join(out, files[0] as string), '--db', db);
    expect(history.status, history.stdout).toBe(0);
    expect(history.stdout).toContain('in 3 files');
  });

  it('a base row written by hand (records deleted, no audit.archived record) fails verification', async () => {
    const copy = join(dir, 'tampered.db');
    const backup = await airlock('backup', '--db', db, '--to', copy);
    expect(backup.status, backup.stderr).toBe(0);
    const tampered = new Database(copy);
    const cut = tampered.prepare('SELECT min(seq) + 5 AS seq FROM audit').get() as { seq: number };
    const row = tampered.prepare('SELECT hash, at FROM audit WHERE seq = ?').get(cut.seq) as { hash: string; at: number };
    tampered.prepare('DELETE FROM audit WHERE seq <= ?').run(cut.seq);
    tampered.prepare('INSERT INTO audit_archives (seq, hash, at, first_seq, file, archived_at) VALUES (?, ?, ?, 1, ?, ?)').run(cut.seq, row.hash, row.at, 'forged.db', Date.now());
    tampered.close();
    const verified = await airlock('audit', 'verify', '--db', copy);
    expect(verified.status).toBe(1);
    expect(verified.stdout).toContain('no audit.archived record in the trail attests it');
    expect(existsSync(copy)).toBe(true);
  });

  it('the audit stream says where the trail starts, and `airlock audit tail` follows on from there', async () => {
    const base = read<{ seq: number; hash: string }>(db, 'SELECT seq, hash FROM audit_archives ORDER BY seq DESC LIMIT 1')[0] as { seq: number; hash: string };
    const stream = await fetch(`${server.url}/v1/audit/stream?after=0&follow=false`, { headers: { cookie: await adminCookie() } });
    const first = JSON.parse((await stream.text()).split('\n')[0] as string) as { error: { code: string; seq: number; hash: string } };
    expect(first.error).toMatchObject({ code: 'audit_archived', seq: base.seq, hash: base.hash });

    const tail = spawn(process.execPath, [BIN, 'audit', 'tail', '--url', server.url, '--user', 'admin', '--json'], { env: { ...process.env, AIRLOCK_PASSWORD: PASSWORD } });
    let stdout = '';
    let stderr = '';
    tail.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    tail.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const status = await new Promise<number | null>((resolve) => tail.on('close', resolve));
    expect(status, stderr).toBe(0);
    expect(stderr).toContain(`were archived`);
    expect(stderr).toContain(`following from ${base.seq + 1}`);
    const seqs = stdout.trim().split('\n').map((line) => (JSON.parse(line) as { seq: number }).seq);
    expect(seqs[0]).toBe(base.seq + 1);
    expect(seqs.every((seq, i) => i === 0 || seq === (seqs[i - 1] as number) + 1)).toBe(true);
  });
});
