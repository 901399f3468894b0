import Sqlite from 'better-sqlite3';

/**
 * Opens one connection to the database file with the settings every connection shares.
 * WAL + synchronous=FULL: a committed transaction survives power loss, and readers never block
 * the writer.
 */
export function openConnection(file: string, options: { readonly?: boolean; fileMustExist?: boolean } = {}): Sqlite.Database {
  const readonly = options.readonly ?? false;
  const sqlite = new Sqlite(file, { readonly, fileMustExist: readonly || (options.fileMustExist ?? false) });
  try {
    if (!readonly) {
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('synchronous = FULL');
    }
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
  } catch (error) {
    sqlite.close();
    throw error;
  }
  return sqlite;
}
