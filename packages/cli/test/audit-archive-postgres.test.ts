import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../server/src/store/postgres/postgres-store.js';
import { dropSchema, POSTGRES_URL, uniqueName } from '../../server/test/support/shared-services.js';
import { airlock } from './support/airlock.js';
import { decisionEntry as decision } from '../../server/test/support/records.js';

const DAY = 24 * 60 * 60 * 1000;


/** `airlock audit archive --database-url` and `airlock audit verify --db <archive> --database-url`: the PostgreSQL trail's history in a file and the database. */
describe('airlock audit archive / verify on PostgreSQL', () => {
  const schema = uniqueName('cli_archive');
  const dir = mkdtempSync(join(tmpdir(), 'airlock-cli-pg-archive-'));
  const archive = join(dir, 'to-20d.db');

  beforeAll(async () => {
    const store = await openPostgresStore(POSTGRES_URL, { schema });
    const now = Date.now();
    await store.commit(Array.from({ length: 30 }, (_, i) => decision(i, now - 30 * DAY + i)));
    await store.commit(Array.from({ length: 5 }, (_, i) => decision(100 + i, now - DAY + i)));
    await store.close();
  });
  afterAll(async () => {
    await dropSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  });

  it('archives the records before a date into a file; archive and database verify as one history', async () => {
    const result = await airlock('audit', 'archive', '--database-url', POSTGRES_URL, '--schema', schema, '--before', '20d', '--to', archive);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Archived records 1–30 (30) to ${archive}`);
    expect(result.stdout).toContain(`airlock audit verify --db ${archive} --database-url <url> --schema ${schema}`);

    const history = await airlock('audit', 'verify', '--db', archive, '--database-url', POSTGRES_URL, '--schema', schema);
    expect(history.status, history.stdout + history.stderr).toBe(0);
    expect(history.stdout).toContain('OK: 36 records in 1 file and the database');
    const alone = await airlock('audit', 'verify', '--database-url', POSTGRES_URL, '--schema', schema);
    expect(alone.status, alone.stdout + alone.stderr).toBe(0);
    expect(alone.stdout).toMatch(/starts after archived record 30 \(to-20d\.db\): attested by record 36/);
    const file = await airlock('audit', 'verify', '--db', archive);
    expect(file.status, file.stdout + file.stderr).toBe(0);
    expect(file.stdout).toContain('OK: 30 records');
    // Verified with the database, the archive given twice is not a history.
    expect((await airlock('audit', 'verify', '--db', archive, '--db', archive, '--database-url', POSTGRES_URL, '--schema', schema)).status).toBe(1);
  });

  it('a database it cannot reach: exit 1 with the reason, no file, the password not printed', async () => {
    const file = join(dir, 'unreachable.db');
    const result = await airlock('audit', 'archive', '--database-url', 'postgres://someone:s3cret@127.0.0.1:1/test', '--before', '20d', '--to', file);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('archive failed, nothing removed from postgres://someone:***@127.0.0.1:1/test');
    expect(result.stderr).not.toContain('s3cret');
    expect(existsSync(file)).toBe(false);
    // libpq also takes the password as a query parameter.
    const query = await airlock('audit', 'archive', '--database-url', 'postgres://someone@127.0.0.1:1/test?password=hunter2', '--before', '20d', '--to', file);
    expect(query.status).toBe(1);
    expect(query.stderr).not.toContain('hunter2');
    expect(query.stderr).toContain('password=***');
  });
});
