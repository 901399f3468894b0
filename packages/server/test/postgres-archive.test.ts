import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditFile } from '../src/audit/verify-file.js';
import { auditRows, verifyChain, verifyFromBase } from '../src/audit/verify.js';
import { archivePostgresAudit, postgresTrailBase, verifyPostgresTrail } from '../src/store/postgres/archive.js';
import { openPostgresStore } from '../src/store/postgres/postgres-store.js';
import type { Store } from '../src/store/store.js';
import { dropSchema, inSchema, POSTGRES_URL, uniqueName } from './support/shared-services.js';
import { decisionEntry as decision } from './support/records.js';

const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.now();


const count = (schema: string, query: string) => inSchema(schema, async (client) => Number((await client.query(query)).rows[0].n));

/**
 * `archivePostgresAudit` (docs/operations.md "Archiving old records"): a PostgreSQL trail's oldest
 * records move into an archive file that verifies on its own, while two instances keep appending;
 * the trail goes on from the last archived record and attests it; several runs at once archive once.
 */
describe('archiving a PostgreSQL trail', () => {
  const schema = uniqueName('archive');
  const dir = mkdtempSync(join(tmpdir(), 'airlock-pg-archive-'));
  let store: Store;
  let second: Store;
  let oldThrough = 0;

  beforeAll(async () => {
    store = await openPostgresStore(POSTGRES_URL, { schema });
    second = await openPostgresStore(POSTGRES_URL, { schema });
    // 40 decisions 30 days ago, 10 a day ago.
    const old = await store.commit(Array.from({ length: 40 }, (_, i) => decision(i, NOW - 30 * DAY + i)));
    oldThrough = old[old.length - 1]?.seq ?? 0;
    await store.commit(Array.from({ length: 10 }, (_, i) => decision(100 + i, NOW - DAY + i)));
  });
  afterAll(async () => {
    await store?.close();
    await second?.close();
    await dropSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a date inside what must stay and archives nothing before the first record; writes no file', async () => {
    const inside = await archivePostgresAudit(POSTGRES_URL, join(dir, 'inside.db'), { schema, beforeMs: NOW - 3 * DAY, nowMs: NOW, actor: 'system' });
    expect(inside).toMatchObject({ kind: 'refused' });
    expect((inside as { reason: string }).reason).toContain('records of the last 7 days stay in the trail');
    const none = await archivePostgresAudit(POSTGRES_URL, join(dir, 'none.db'), { schema, beforeMs: NOW - 90 * DAY, nowMs: NOW, actor: 'system' });
    expect(none).toMatchObject({ kind: 'nothing' });
    expect(readdirSync(dir)).toEqual([]);
    expect(await postgresTrailBase(POSTGRES_URL, { schema })).toBeUndefined();
  });

  it('moves the old records into a file that verifies while two instances keep appending; the trail starts after it and attests it', async () => {
    const oldHash = await inSchema(schema, async (client) => (await client.query('SELECT hash FROM audit WHERE seq = $1', [oldThrough])).rows[0].hash as string);
    let stop = false;
    let appended = 0;
    const appenders = [store, second].map(async (instance, k) => {
      for (let i = 0; !stop; i++) {
        const sealed = await instance.commit([decision(1000 * (k + 1) + i, Date.now())]);
        expect(sealed[0]?.seq).toBeGreaterThan(oldThrough);
        appended++;
      }
    });
    const file = join(dir, 'to-20d.db');
    const outcome = await archivePostgresAudit(POSTGRES_URL, file, { schema, beforeMs: NOW - 20 * DAY, nowMs: NOW, actor: 'system' });
    stop = true;
    await Promise.all(appenders);
    expect(appended).toBeGreaterThan(0);
    expect(outcome).toMatchObject({ kind: 'archived', from: 1, through: oldThrough, records: oldThrough, hash: oldHash });
    expect(statSync(file).mode & 0o777).toBe(0o600);

    expect(await verifyAuditFile(file)).toMatchObject({ ok: true, records: oldThrough, head: oldHash });
    expect(await count(schema, `SELECT count(*) AS n FROM audit WHERE seq <= ${oldThrough}`)).toBe(0);
    expect(await count(schema, `SELECT count(*) AS n FROM audit_args WHERE seq <= ${oldThrough}`)).toBe(0);
    expect(await postgresTrailBase(POSTGRES_URL, { schema })).toMatchObject({ seq: oldThrough, hash: oldHash, file: 'to-20d.db' });
    const live = await verifyPostgresTrail(POSTGRES_URL, { schema });
    expect(live).toMatchObject({ ok: true, base: { seq: oldThrough, hash: oldHash, file: 'to-20d.db' } });
    expect((live as { base: { attestedBy: number } }).base.attestedBy).toBe((outcome as { attestedBy: number }).attestedBy);
    // The store's own view agrees: the server's GET /v1/audit/verify reads the same base.
    expect(await store.auditBase()).toMatchObject({ seq: oldThrough, hash: oldHash });
    // The per-minute decision counts are kept (the dashboard goes on counting archived decisions).
    expect((await store.decisionBuckets({ fromMs: NOW - 31 * DAY, toMs: NOW - 29 * DAY }, 2 * DAY)).reduce((sum, row) => sum + row.count, 0)).toBe(40);
  }, 60_000);

  it('a trail edited after archiving fails verification, naming the record', async () => {
    const seq = oldThrough + 3;
    await inSchema(schema, (client) => client.query("UPDATE audit SET payload = replace(payload, 'refund-small', 'refund-smalL') WHERE seq = $1", [seq]));
    try {
      expect(await verifyPostgresTrail(POSTGRES_URL, { schema })).toMatchObject({ ok: false, seq });
    } finally {
      await inSchema(schema, (client) => client.query("UPDATE audit SET payload = replace(payload, 'refund-smalL', 'refund-small') WHERE seq = $1", [seq]));
    }
    expect(await verifyPostgresTrail(POSTGRES_URL, { schema })).toMatchObject({ ok: true });
  });

  it('of 10 runs at once, one archives; the others archive nothing or step back and remove their file', async () => {
    // The records the instances appended during the last test go (the 7 days that must stay are
    // counted from nowMs, moved forward); a record made after `beforeMs` bounds the prefix, so a
    // run that starts after the winner finds nothing left to archive (it would otherwise archive
    // the next prefix, the winner's own record and the one before it: a later archive, not a race).
    const beforeMs = Date.now();
    await store.commit([decision(77_777, beforeMs + DAY)]);
    const nowMs = beforeMs + 30 * DAY;
    const runs = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        archivePostgresAudit(POSTGRES_URL, join(dir, `race-${i}.db`), { schema, beforeMs, nowMs, actor: 'system' }).catch((error: unknown) => ({ kind: 'error' as const, error: String(error) })),
      ),
    );
    const archived = runs.filter((run) => run.kind === 'archived');
    expect(archived, JSON.stringify(runs)).toHaveLength(1);
    for (const run of runs) {
      if (run.kind === 'archived') continue;
      if (run.kind === 'error') expect(run.error).toContain('another archive ran meanwhile');
      else expect(run.kind, JSON.stringify(run)).toBe('nothing');
    }
    expect(readdirSync(dir).filter((name) => name.startsWith('race-'))).toHaveLength(1);
    expect(await count(schema, 'SELECT count(*) AS n FROM audit_archives')).toBe(2);
    expect(await verifyPostgresTrail(POSTGRES_URL, { schema })).toMatchObject({ ok: true });
  }, 60_000);
});

describe('archiving a PostgreSQL trail: a lost answer to the recording COMMIT', () => {
  const schema = uniqueName('archive_lost');
  const dir = mkdtempSync(join(tmpdir(), 'airlock-pg-archive-lost-'));
  let store: Store;
  beforeAll(async () => {
    store = await openPostgresStore(POSTGRES_URL, { schema });
    await store.commit(Array.from({ length: 40 }, (_, i) => decision(i, NOW - 30 * DAY + i)));
    await store.commit([decision(99, NOW - DAY)]);
  });
  afterAll(async () => {
    await store?.close();
    await dropSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the file when the database did commit (the records stay in one place), and finishes', async () => {
    const file = join(dir, 'lost-reply.db');
    const original = pg.Client.prototype.query;
    let armed = false;
    // The COMMIT of the recording transaction goes through, then its reply is lost.
    (pg.Client.prototype as unknown as { query: unknown }).query = async function (this: pg.Client, ...args: unknown[]) {
      const text = typeof args[0] === 'string' ? args[0] : '';
      if (text.startsWith('INSERT INTO audit_archives')) armed = true;
      const result = await (original as (...a: unknown[]) => Promise<unknown>).apply(this, args);
      if (armed && text === 'COMMIT') {
        armed = false;
        throw new Error('Connection terminated unexpectedly');
      }
      return result;
    };
    let outcome;
    try {
      outcome = await archivePostgresAudit(POSTGRES_URL, file, { schema, beforeMs: NOW - 20 * DAY, nowMs: NOW, actor: 'system' });
    } finally {
      pg.Client.prototype.query = original;
    }
    // Recorded: the run asked the database, kept the file and deleted the archived records.
    expect(outcome).toMatchObject({ kind: 'archived', from: 1, through: 40 });
    expect(existsSync(file)).toBe(true);
    expect(await verifyAuditFile(file)).toMatchObject({ ok: true, records: 40 });
    expect(await count(schema, 'SELECT count(*) AS n FROM audit WHERE seq <= 40')).toBe(0);
    expect(await verifyPostgresTrail(POSTGRES_URL, { schema })).toMatchObject({ ok: true, base: { seq: 40, file: 'lost-reply.db' } });
  }, 60_000);

  it('removes the file when the recording transaction failed before its COMMIT (nothing recorded)', async () => {
    const file = join(dir, 'failed.db');
    const original = pg.Client.prototype.query;
    (pg.Client.prototype as unknown as { query: unknown }).query = async function (this: pg.Client, ...args: unknown[]) {
      const text = typeof args[0] === 'string' ? args[0] : '';
      if (text.startsWith('INSERT INTO audit (')) throw new Error('Connection terminated unexpectedly');
      return (original as (...a: unknown[]) => Promise<unknown>).apply(this, args);
    };
    const before = await postgresTrailBase(POSTGRES_URL, { schema });
    try {
      await expect(archivePostgresAudit(POSTGRES_URL, file, { schema, beforeMs: Date.now() + 30 * DAY - 8 * DAY, nowMs: Date.now() + 30 * DAY, actor: 'system' })).rejects.toThrow('Connection terminated');
    } finally {
      pg.Client.prototype.query = original;
    }
    expect(existsSync(file)).toBe(false);
    expect(await postgresTrailBase(POSTGRES_URL, { schema })).toEqual(before);
    expect(await verifyPostgresTrail(POSTGRES_URL, { schema })).toMatchObject({ ok: true });
  }, 60_000);
});

describe('verifying while an archive runs', () => {
  const schema = uniqueName('archive_verify');
  const dir = mkdtempSync(join(tmpdir(), 'airlock-pg-archive-verify-'));
  let store: Store;
  beforeAll(async () => {
    store = await openPostgresStore(POSTGRES_URL, { schema });
    for (let i = 0; i < 3000; i += 1000) await store.commit(Array.from({ length: 1000 }, (_, k) => decision(i + k, NOW - 30 * DAY + i + k)));
    await store.commit([decision(9999, NOW - DAY)]);
  });
  afterAll(async () => {
    await store?.close();
    await dropSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  });

  it('an archive landing between reading the base and the records is no broken trail: verified again from the new base', async () => {
    // The base is read, then an archive commits and deletes, then the records are walked.
    let archived = false;
    const readBase = async () => {
      const base = await store.auditBase();
      if (!archived) {
        archived = true;
        expect(await archivePostgresAudit(POSTGRES_URL, join(dir, 'between.db'), { schema, beforeMs: NOW - 20 * DAY, nowMs: NOW, actor: 'system' })).toMatchObject({ kind: 'archived', through: 3000 });
      }
      return base;
    };
    const walks: { ok: boolean; seq?: number }[] = [];
    const walk = async (base: Awaited<ReturnType<Store['auditBase']>>) => {
      const result = await verifyChain(auditRows((after, limit) => store.auditAfter(after, limit), 1000, base?.seq ?? 0), { ...(base ? { base } : {}), requireAttestation: true });
      walks.push(result);
      return result;
    };
    expect(await verifyFromBase(readBase, walk)).toMatchObject({ ok: true, base: { seq: 3000 } });
    // The first walk was the false alarm a single pass answers: record 1 missing.
    expect(walks).toHaveLength(2);
    expect(walks[0]).toMatchObject({ ok: false, seq: 1 });
  }, 120_000);
});
