import { statSync, unlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { prepareRecord, sealRecord } from '../../audit/record.js';
import { auditRows, verifyChain, verifyFromBase, type ArchivedData, type VerifyResult } from '../../audit/verify.js';
import { KyselyStore } from '../kysely-store.js';
import type { AuditArchiveRow, Database } from '../schema.js';
import { refusedSpan, writeArchive, type ArchiveOptions, type ArchiveOutcome } from '../sqlite/archive.js';
import { openConnection } from '../sqlite/connection.js';
import { CHAIN_LOCK, guardClients, types } from './postgres-store.js';

/** Records whose sizes are read at once while copying; the records themselves come in pages of at most COPY_CHARS. */
const COPY_PAGE = 1000;
/** Payload characters read per page while copying: an agent's arguments may make a record ~1 MB. */
const COPY_CHARS = 8 * 1024 * 1024;
/** Records deleted per transaction: each holds back the instances' appends for a few milliseconds only. */
const DELETE_CHUNK = 2_000;

export interface PostgresTrailOptions {
  /** The schema holding Airlock's tables, as the servers use it (AIRLOCK_DATABASE_SCHEMA). */
  schema?: string | undefined;
}

/**
 * Moves the oldest records of a PostgreSQL trail into a new archive file while the instances run:
 * the SQLite archive's steps (store/sqlite/archive.ts) on the shared database. The file is the
 * same kind of archive (a SQLite database of the server's schema) and verifies on its own; the
 * new base and the `audit.archived` record naming it are written in one transaction holding the
 * chain's lock, so every instance's next batch chains after that record; then the archived
 * records are deleted, a chunk per transaction (an interrupted run's are deleted by the next).
 */
export async function archivePostgresAudit(url: string, destination: string, options: ArchiveOptions & PostgresTrailOptions): Promise<ArchiveOutcome> {
  const client = await connect(url, options.schema);
  try {
    if ((await client.query<{ t: string | null }>("SELECT to_regclass('audit_archives')::text AS t")).rows[0]?.t == null) {
      return { kind: 'refused', reason: 'this database predates archiving: start this version of the server on it once (it migrates the database), then archive' };
    }
    await deleteThrough(client, (await readBase(client))?.seq ?? 0);
    const kept = refusedSpan((await client.query<{ sources: string }>('SELECT sources FROM policy_versions')).rows, options);
    if (kept) return kept;
    const copied = await writeArchive(destination, (file) => copyPrefix(client, file, options.beforeMs));
    if ('kind' in copied) return copied;

    const { base, from, through, clippedBy } = copied;
    const data: ArchivedData = { from, through, hash: copied.hash, file: basename(destination), records: through - from + 1 };
    let attestedBy: number;
    // The connection the deletes run on: a new one when the recording's may be gone.
    let deleter = client;
    try {
      attestedBy = await recordArchive(client, base, { seq: through, hash: copied.hash, at: copied.at, first_seq: from, file: data.file, archived_at: options.nowMs }, data, options);
    } catch (error) {
      // A lost connection may have cut the reply to a COMMIT that happened: the base would then
      // name a file removed here, and the next run would delete the records it holds. Only a
      // database that answers "not recorded" lets the file go.
      const recorded = error instanceof ArchiveRaced ? undefined : await recordedArchive(url, options.schema, through, data.file).catch(() => null);
      if (recorded === undefined) {
        unlinkSync(destination);
        throw error;
      }
      if (recorded === null) {
        throw new ArchiveIncomplete(
          `${errorText(error)}; whether the archive was recorded is unknown: keep ${destination} (it verifies) and run the command again once the database answers (it finishes a recorded archive, or archives anew)`,
        );
      }
      attestedBy = recorded;
      deleter = await connect(url, options.schema).catch(() => client);
    }
    try {
      await deleteThrough(deleter, through);
    } catch (error) {
      throw new ArchiveIncomplete(
        `the archive ${data.file} is recorded (record ${attestedBy}), but deleting the archived records from the database failed: ${errorText(error)}; run the command again to finish (verification already starts after them)`,
      );
    } finally {
      if (deleter !== client) await deleter.end().catch(() => undefined);
    }
    return { kind: 'archived', from, through, records: data.records, hash: copied.hash, bytes: statSync(destination).size, attestedBy, ...(clippedBy ? { clippedBy } : {}) };
  } finally {
    // A connection already lost must not hide the error that is on its way.
    await client.end().catch(() => undefined);
  }
}

/** Where a PostgreSQL trail starts (its newest audit_archives row); none before archiving. */
export async function postgresTrailBase(url: string, options: PostgresTrailOptions = {}): Promise<AuditArchiveRow | undefined> {
  const client = await connect(url, options.schema);
  try {
    if ((await client.query<{ t: string | null }>("SELECT to_regclass('audit_archives')::text AS t")).rows[0]?.t == null) return undefined;
    return await readBase(client);
  } finally {
    await client.end();
  }
}

/**
 * Verifies a PostgreSQL trail's chain from its base, read-only (no migration, no write), as the
 * servers' GET /v1/audit/verify does: the base must be attested by an `audit.archived` record.
 */
export async function verifyPostgresTrail(url: string, options: PostgresTrailOptions & { expectHead?: string | undefined; anchorOptional?: boolean } = {}): Promise<VerifyResult> {
  const pool = new pg.Pool({ connectionString: url, max: 2, types, ...searchPath(options.schema) });
  guardClients(pool);
  const store = new KyselyStore(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }));
  try {
    // Again if an archive moved the base meanwhile (verifyFromBase).
    return await verifyFromBase(
      () => postgresTrailBase(url, options),
      (base) =>
        verifyChain(auditRows((after, limit) => store.auditAfter(after, limit), 1000, base?.seq ?? 0), {
          ...(options.expectHead === undefined ? {} : { expectHead: options.expectHead }),
          ...(options.anchorOptional ? { anchorOptional: true } : {}),
          ...(base ? { base } : {}),
          requireAttestation: true,
        }),
    );
  } finally {
    await store.close();
  }
}

/**
 * The archive file is written and may be recorded, but the run did not finish: the message says
 * what to do. The file must be kept (`airlock audit archive` exits 1 and names it).
 */
export class ArchiveIncomplete extends Error {
  override readonly name = 'ArchiveIncomplete';
}

/** Another archive moved the base first: nothing was recorded by this run. */
class ArchiveRaced extends Error {}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * After a failed recording transaction: the `audit.archived` record's seq when the base row of
 * this archive is there (the COMMIT happened), undefined when it is not (nothing was recorded).
 * Throws when the database cannot say.
 */
async function recordedArchive(url: string, schema: string | undefined, through: number, file: string): Promise<number | undefined> {
  const client = await connect(url, schema);
  try {
    const base = (await client.query('SELECT 1 FROM audit_archives WHERE seq = $1 AND file = $2', [through, file])).rows[0];
    if (!base) return undefined;
    const record = (await client.query<{ seq: number | null }>("SELECT min(seq) AS seq FROM audit WHERE type = 'audit.archived' AND seq > $1", [through])).rows[0];
    return Number(record?.seq ?? 0);
  } finally {
    await client.end();
  }
}

interface Copied {
  base: AuditArchiveRow | undefined;
  from: number;
  through: number;
  hash: string;
  at: number;
  clippedBy?: string;
}

function searchPath(schema: string | undefined): { options?: string } {
  if (schema === undefined) return {};
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  return { options: `-c search_path=${schema}` };
}

async function connect(url: string, schema: string | undefined): Promise<pg.Client> {
  // A run stopped inside the recording transaction (which holds the chain's lock) must not hold
  // every instance's appends for longer than this: PostgreSQL ends such a session.
  const path = searchPath(schema).options;
  const client = new pg.Client({
    connectionString: url,
    types,
    connectionTimeoutMillis: 10_000,
    options: `${path === undefined ? '' : `${path} `}-c idle_in_transaction_session_timeout=10000`,
  });
  // A connection lost while idle between two steps is no uncaught exception: the next query fails.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

async function readBase(client: pg.Client): Promise<AuditArchiveRow | undefined> {
  return (await client.query<AuditArchiveRow>('SELECT * FROM audit_archives ORDER BY seq DESC LIMIT 1')).rows[0];
}

/**
 * Chooses the prefix and copies it (records, their argument index rows, the earlier bases) into
 * the archive from one snapshot of the database (REPEATABLE READ): a run at the same time cannot
 * delete what this one copies. Nothing is written to the database.
 */
async function copyPrefix(client: pg.Client, file: string, beforeMs: number): Promise<Copied | Extract<ArchiveOutcome, { kind: 'nothing' | 'refused' }>> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  const archive = openConnection(file);
  try {
    const base = await readBase(client);
    const from = (base?.seq ?? 0) + 1;
    const newest = Number((await client.query<{ seq: number | null }>('SELECT max(seq) AS seq FROM audit')).rows[0]?.seq ?? 0);
    const firstKept = (await client.query<{ seq: number | null }>('SELECT min(seq) AS seq FROM audit WHERE seq >= $1 AND at >= $2', [from, beforeMs])).rows[0]?.seq ?? null;
    // The longest prefix made wholly before the instant, and never the newest record.
    let through = Math.min(firstKept === null ? newest : Number(firstKept) - 1, newest - 1);
    let clippedBy: string | undefined;
    const forwarder = (await client.query<{ name: string; seq: number }>('SELECT name, seq FROM audit_forwarders ORDER BY seq ASC LIMIT 1')).rows[0];
    if (forwarder && Number(forwarder.seq) < through) {
      through = Number(forwarder.seq);
      clippedBy = `the audit forwarder '${forwarder.name}' has delivered records up to ${through} only`;
    }
    if (through < from) {
      return { kind: 'nothing', reason: clippedBy ?? `no record before ${new Date(beforeMs).toISOString()} follows ${base ? `the last archive (record ${base.seq})` : 'the start of the trail'}` };
    }
    const last = (await client.query<{ hash: string; at: number }>('SELECT hash, at FROM audit WHERE seq = $1', [through])).rows[0];
    if (!last) return { kind: 'refused', reason: `record ${through} is missing from the trail: GET /v1/audit/verify names the damage` };

    const insertRecord = archive.prepare('INSERT INTO audit (seq, at, type, actor, agent, tool, effect, rule, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    const insertArg = archive.prepare('INSERT INTO audit_args (seq, path, text_value, num_value) VALUES (?, ?, ?, ?)');
    archive.pragma('synchronous = OFF'); // fsync'd whole before it is named (fsyncFile)
    for (let low = from; low <= through; ) {
      const sizes = (await client.query<{ seq: number; chars: number }>('SELECT seq, octet_length(payload) AS chars FROM audit WHERE seq >= $1 AND seq <= $2 ORDER BY seq LIMIT $3', [low, through, COPY_PAGE])).rows;
      if (sizes.length === 0) break;
      // Pages of at most COPY_CHARS (at least one record each), read by seq range.
      for (let i = 0; i < sizes.length; ) {
        let chars = 0;
        let j = i;
        while (j < sizes.length && (j === i || chars + Number(sizes[j]?.chars) <= COPY_CHARS)) chars += Number(sizes[j++]?.chars);
        const first = Number(sizes[i]?.seq);
        const lastSeq = Number(sizes[j - 1]?.seq);
        const records = (await client.query('SELECT seq, at, type, actor, agent, tool, effect, rule, payload, prev_hash, hash FROM audit WHERE seq BETWEEN $1 AND $2 ORDER BY seq', [first, lastSeq])).rows as Record<string, unknown>[];
        const args = (await client.query('SELECT seq, path, text_value, num_value FROM audit_args WHERE seq BETWEEN $1 AND $2', [first, lastSeq])).rows as Record<string, unknown>[];
        archive.transaction(() => {
          for (const r of records) insertRecord.run(r.seq, r.at, r.type, r.actor, r.agent, r.tool, r.effect, r.rule, r.payload, r.prev_hash, r.hash);
          for (const a of args) insertArg.run(a.seq, a.path, a.text_value, a.num_value);
        })();
        i = j;
      }
      low = Number(sizes[sizes.length - 1]?.seq) + 1;
    }
    const bases = (await client.query<AuditArchiveRow>('SELECT * FROM audit_archives ORDER BY seq')).rows;
    const insertBase = archive.prepare('INSERT INTO audit_archives (seq, hash, at, first_seq, file, archived_at) VALUES (?, ?, ?, ?, ?, ?)');
    for (const b of bases) insertBase.run(b.seq, b.hash, b.at, b.first_seq, b.file, b.archived_at);
    archive.prepare("UPDATE search_index SET seq = ? WHERE name = 'audit_args'").run(through);
    return { base, from, through, hash: last.hash, at: Number(last.at), ...(clippedBy ? { clippedBy } : {}) };
  } finally {
    archive.close();
    await client.query('COMMIT');
  }
}

/**
 * Writes the new base and the `audit.archived` record naming it, in one transaction that holds the
 * chain's lock (the instances' appends wait for it and chain after the record) and first checks
 * that no other archive moved the base meanwhile.
 */
async function recordArchive(client: pg.Client, base: AuditArchiveRow | undefined, row: AuditArchiveRow, data: ArchivedData, options: ArchiveOptions): Promise<number> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_LOCK]);
    const now = await readBase(client);
    if (Number(now?.seq ?? 0) !== Number(base?.seq ?? 0)) throw new ArchiveRaced(`another archive ran meanwhile (the trail now starts after record ${now?.seq ?? 0}); run it again`);
    const head = (await client.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1')).rows[0];
    if (!head) throw new Error('the trail is empty');
    await client.query('INSERT INTO audit_archives (seq, hash, at, first_seq, file, archived_at) VALUES ($1, $2, $3, $4, $5, $6)', [row.seq, row.hash, row.at, row.first_seq, row.file, row.archived_at]);
    const record = sealRecord(prepareRecord({ type: 'audit.archived', at: options.nowMs, actor: options.actor, data: { ...data } }), Number(head.seq) + 1, head.hash);
    await client.query('INSERT INTO audit (seq, at, type, actor, agent, tool, effect, rule, payload, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)', [
      record.seq,
      record.at,
      record.type,
      record.actor,
      record.agent,
      record.tool,
      record.effect,
      record.rule,
      record.payload,
      record.prev_hash,
      record.hash,
    ]);
    await client.query('COMMIT');
    return record.seq;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Deletes every record up to `through` and its argument index rows (by the (seq, …) index), a chunk per transaction. */
async function deleteThrough(client: pg.Client, through: number): Promise<void> {
  const oldest = (await client.query<{ seq: number | null }>('SELECT min(seq) AS seq FROM audit')).rows[0]?.seq ?? null;
  if (oldest === null || Number(oldest) > through) return;
  for (let low = Number(oldest); low <= through; low += DELETE_CHUNK) {
    const high = Math.min(through, low + DELETE_CHUNK - 1);
    await client.query('BEGIN');
    try {
      await client.query('DELETE FROM audit_args WHERE seq BETWEEN $1 AND $2', [low, high]);
      await client.query('DELETE FROM audit WHERE seq BETWEEN $1 AND $2', [low, high]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
}
