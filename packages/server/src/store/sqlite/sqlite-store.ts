import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { KyselyStore } from '../kysely-store.js';
import { migrationProvider } from '../migrations/index.js';
import type { Database } from '../schema.js';
import { openConnection } from './connection.js';
import { SqliteReadThread, SqliteReadThreadDialect } from './read-thread.js';
import { SqliteWriteThread, type CheckpointSettings } from './write-thread.js';

export interface SqliteStoreOptions {
  /** Open an existing file without writing to it (audit verification). No migrations, no writer. */
  readonly?: boolean;
  /** When the WAL is copied into the database and started over (default: DEFAULT_CHECKPOINTS). */
  checkpoints?: CheckpointSettings;
}

/**
 * Opens (creating if needed) one SQLite file and brings its schema up to date. Writes go to a
 * writer thread, reads whose cost grows with the data to a reader thread (each with its own
 * connection); index point lookups use this connection, on the event loop.
 */
export async function openSqliteStore(file: string, options: SqliteStoreOptions = {}): Promise<KyselyStore> {
  const readonly = options.readonly ?? false;
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: openConnection(file, { readonly }) }) });
  if (readonly) {
    const refuse = (): Promise<never> => Promise.reject(new Error('the store is read-only'));
    return new KyselyStore(db, { commit: refuse, apply: refuse, ping: () => Promise.resolve() });
  }
  const { error } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
  if (error) {
    await db.destroy();
    throw error instanceof Error ? error : new Error(String(error));
  }
  const reads = new Kysely<Database>({ dialect: new SqliteReadThreadDialect(new SqliteReadThread(file)) });
  return new KyselyStore(reads, new SqliteWriteThread(file, options.checkpoints), { pointReads: db });
}

/** Creates a database file's schema, or brings it up to date, without opening a store on it. */
export async function migrateSqliteFile(file: string): Promise<void> {
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: openConnection(file) }) });
  try {
    const { error } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
    if (error) throw error instanceof Error ? error : new Error(String(error));
  } finally {
    await db.destroy();
  }
}
