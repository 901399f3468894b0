import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_FILE, startServer, verifyAuditFile, type RunningServer } from '@airlock/server';
import { airlock } from './support/airlock.js';

const PASSWORD = 'backup test admin password';
/** The built module the CLI runs (`npm test` builds first), loaded by the threads of the race below. */
const BACKUP_MODULE = new URL('../../server/dist/store/sqlite/backup.js', import.meta.url).href;

const refund = (account: string) => ({ tool: 'issue_refund', args: { account_id: account, amount: 20, currency: 'USD' } });

/** The ids of the decision records in a database file. */
function decisionIds(file: string): Set<string> {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare<[], { payload: string }>("SELECT payload FROM audit WHERE type = 'decision'").all();
    return new Set(rows.map((row) => (JSON.parse(row.payload) as { data: { id: string } }).data.id));
  } finally {
    db.close();
  }
}

/**
 * `airlock backup` (docs/operations.md): a copy taken while the server answers a steady stream of
 * decisions is one consistent instant (its chain verifies, and is a prefix of the live one), holds
 * every decision answered before it started, is readable by its owner only, never replaces a
 * file (one winner of 100 racing for one name), and a server started on it carries on the chain.
 */
describe('airlock backup', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-backup-'));
  const dataDir = join(dir, 'data');
  const db = join(dataDir, DATABASE_FILE);
  const out = join(dir, 'backups');
  let server: RunningServer;
  let key: string;

  beforeAll(async () => {
    mkdirSync(out);
    server = await startServer({ dataDir, port: 0, adminPassword: PASSWORD, print: () => undefined, logError: () => undefined });
    key = (server.seeded.demoKeys ?? []).find((k) => k.agent === 'support-bot-1')?.key as string;
    expect(key).toBeDefined();
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const decide = async (account: string, url = server.url): Promise<{ id: string; effect: string }> => {
    const response = await fetch(`${url}/v1/decide`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(refund(account)),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { id: string; effect: string };
  };

  it('copies one consistent instant while 50 callers keep deciding, and the copy holds every decision answered before it', async () => {
    const before = await Promise.all(Array.from({ length: 100 }, (_, i) => decide(`BK-BEFORE-${i}`)));
    // 50 callers decide without pause from here until the backup has finished.
    let running = true;
    const during: string[] = [];
    const callers = Array.from({ length: 50 }, async (_, c) => {
      for (let i = 0; running; i++) during.push((await decide(`BK-DURING-${c}-${i}`)).id);
    });
    const target = join(out, 'live.db');
    const result = await airlock('backup', '--db', db, '--to', target);
    const answeredWhileCopying = during.length;
    running = false;
    await Promise.all(callers);

    expect(result.status, result.stderr).toBe(0);
    const printed = /^Backed up to .+: [\d.]+ MiB in [\d.]+ s; its audit chain verifies: (\d+) records, head ([0-9a-f]{64})\n$/.exec(result.stdout);
    expect(printed, result.stdout).not.toBeNull();
    const [, records, head] = printed as RegExpExecArray;

    const copy = await verifyAuditFile(target);
    expect(copy).toMatchObject({ ok: true, records: Number(records), head });
    // A prefix of the live chain: the live trail still holds the copy's head, with records after it.
    const live = await verifyAuditFile(db, { expectHead: head });
    if (!live.ok) throw new Error(`the live chain fails at ${live.seq}: ${live.reason}`);
    expect(live.anchor?.following).toBeGreaterThan(0);
    const ids = decisionIds(target);
    for (const decision of before) expect(ids.has(decision.id)).toBe(true);
    // The server was answering while the copy was made, and went on after it.
    expect(answeredWhileCopying).toBeGreaterThan(0);
    expect(during.some((id) => !ids.has(id))).toBe(true);

    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(readdirSync(out)).toEqual(['live.db']);
  });

  it('refuses an existing file, a missing database or folder, and leaves everything as it was', async () => {
    const taken = join(out, 'taken.db');
    writeFileSync(taken, 'not a database, and not to be replaced');
    const refusals = await Promise.all([
      airlock('backup', '--db', db, '--to', taken),
      airlock('backup', '--db', join(dir, 'nothing.db'), '--to', join(out, 'x.db')),
      airlock('backup', '--db', db, '--to', join(dir, 'no-such-folder', 'x.db')),
    ]);
    expect(refusals.map((r) => r.status)).toEqual([2, 2, 2]);
    expect(refusals[0]?.stderr).toContain('exists: a backup never replaces a file');
    expect(refusals[1]?.stderr).toContain('no database at');
    expect(refusals[2]?.stderr).toContain('no folder');
    expect(readFileSync(taken, 'utf8')).toBe('not a database, and not to be replaced');
    expect(readdirSync(out).sort()).toEqual(['live.db', 'taken.db']);
  });

  it('of 100 copies racing for one name, exactly one is written, whole, and no temporary file stays', async () => {
    const target = join(out, 'raced.db');
    const outcomes = await Promise.all(
      Array.from(
        { length: 100 },
        () =>
          new Promise<string>((resolve, reject) => {
            const worker = new Worker(
              `const { parentPort, workerData } = require('node:worker_threads');
               import(workerData.module).then(({ backupSqliteFile }) => {
                 try { backupSqliteFile(workerData.source, workerData.target); parentPort.postMessage('written'); }
                 catch (error) { parentPort.postMessage(error.code ?? String(error)); }
               });`,
              { eval: true, workerData: { module: BACKUP_MODULE, source: db, target } },
            );
            worker.once('message', (message: string) => {
              resolve(message);
              void worker.terminate();
            });
            worker.once('error', reject);
          }),
      ),
    );
    expect(outcomes.filter((o) => o === 'written')).toHaveLength(1);
    expect(new Set(outcomes.filter((o) => o !== 'written'))).toEqual(new Set(['EEXIST']));
    expect((await verifyAuditFile(target)).ok).toBe(true);
    expect(readdirSync(out).sort()).toEqual(['live.db', 'raced.db', 'taken.db']);
  });

  it('restores: a server started on the copy takes the same keys and carries on its chain', async () => {
    const target = join(out, 'restore.db');
    expect((await airlock('backup', '--db', db, '--to', target)).status).toBe(0);
    const copied = await verifyAuditFile(target);
    if (!copied.ok || copied.head === null) throw new Error('the copy does not verify, or is empty');
    const restoredDir = join(dir, 'restored');
    mkdirSync(restoredDir);
    copyFileSync(target, join(restoredDir, DATABASE_FILE));
    const restored = await startServer({ dataDir: restoredDir, port: 0, adminPassword: PASSWORD, print: () => undefined, logError: () => undefined });
    try {
      expect((await decide('BK-AFTER-RESTORE', restored.url)).effect).toBe('allow');
    } finally {
      await restored.close();
    }
    const after = await verifyAuditFile(join(restoredDir, DATABASE_FILE), { expectHead: copied.head });
    if (!after.ok) throw new Error(`the restored chain fails at ${after.seq}: ${after.reason}`);
    expect(after.records).toBeGreaterThan(copied.records);
    expect(after.anchor?.following).toBe(after.records - copied.records);
  });
});
