import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { KyselyBatchWriter } from '../batch-writer.js';
import { KyselyStore } from '../kysely-store.js';
import { migrationProvider } from '../migrations/index.js';
import type { Database } from '../schema.js';

export interface PostgresStoreOptions {
  /** Schema holding Airlock's tables (created if missing). Default: the connection's search_path (public). */
  schema?: string;
  /** Pool size per instance. */
  maxConnections?: number;
  /** How long a query may take before it fails (and a decision fails closed). Default 5 s. */
  statementTimeoutMs?: number;
  /** How long to wait for a connection. Default 5 s. */
  connectTimeoutMs?: number;
}

/**
 * Lock ids (pg advisory locks are a pair of int4 or one int8; these are arbitrary constants that
 * only need to differ from each other and from other applications' locks on the same database).
 */
export const CHAIN_LOCK = 0x4149_524c; // "AIRL"
const SETUP_LOCK = 0x4149_5253; // "AIRS"

/** int8 columns (times, seq) come back as JS numbers, as from SQLite; all fit in 2^53. */
const INT8_OID = 20;
export const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

/**
 * The store on PostgreSQL, for several server instances sharing one database: the same Kysely
 * queries and migrations as SQLite. Audit appends from every instance form one chain: each batch's
 * transaction takes a transaction-scoped advisory lock before it reads the chain head, so appends
 * are serialised across instances (each instance still groups its concurrent decisions into one
 * batch, so the lock is taken once per batch, not per decision).
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<KyselyStore> {
  const schema = options.schema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  const statementTimeout = options.statementTimeoutMs ?? 5_000;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    statement_timeout: statementTimeout,
    query_timeout: statementTimeout + 1_000,
    types,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  });
  guardClients(pool);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await setUp(pool, db, schema);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const writer = new KyselyBatchWriter(db, {
    beforeAppend: async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(${CHAIN_LOCK})`.execute(trx);
    },
  });
  return new KyselyStore(db, writer);
}

/**
 * A connection that dies (a database restart, a network cut) must never crash the process. The
 * pool listens for errors of its idle clients only: a client checked out of it, between two of
 * its queries (inside a transaction, say), would emit an error nobody hears, an uncaught
 * exception. Each client gets a listener of its own for its whole life; its next query fails
 * instead (the batch is answered store_unavailable: fail closed), and the pool drops it when it
 * is released, as it drops a dead idle one.
 */
export function guardClients(pool: pg.Pool): void {
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
}

/** Creates the schema and migrates, once at a time across instances starting together. */
async function setUp(pool: pg.Pool, db: Kysely<Database>, schema: string | undefined): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [SETUP_LOCK]);
    try {
      if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      const { error } = await new Migrator({ db, provider: migrationProvider, ...(schema === undefined ? {} : { migrationTableSchema: schema }) }).migrateToLatest();
      if (error) throw error instanceof Error ? error : new Error(String(error));
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [SETUP_LOCK]);
    }
  } finally {
    client.release();
  }
}

/** Runs `fn` holding a database-wide lock (first-start seeding by several instances at once). */
export async function withSetupLock<T>(url: string, schema: string | undefined, fn: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }) });
  // Idle while `fn` runs: should its connection die meanwhile (the lock goes with it), that is no uncaught exception.
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [SETUP_LOCK + 1]);
    return await fn();
  } finally {
    await client.end();
  }
}
