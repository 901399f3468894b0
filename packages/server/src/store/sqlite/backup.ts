import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { openConnection } from './connection.js';

export interface BackupResult {
  /** Size of the copy in bytes. */
  bytes: number;
}

/**
 * Copies a server database into a new file, while the server runs: `VACUUM INTO` reads the
 * database in one read transaction, so the copy is one consistent instant of it (every table, the
 * audit chain up to one record, never half a batch), and the writer is never held back (WAL: it
 * keeps committing beside the reader). SQLite's page-by-page backup API would start over each
 * time another connection writes, which under steady traffic is always.
 *
 * The copy is written beside the destination under a temporary name, readable by its owner only
 * (it holds the hashes of keys and sessions, as the database does), made durable, and only then
 * given its name, which must be new: a crash leaves no half-written file under it, and no existing
 * file is replaced.
 */
export function backupSqliteFile(source: string, destination: string): BackupResult {
  // Its own name, so that backups running at once (threads of one process included) never share one.
  const partial = join(dirname(destination), `.${basename(destination)}.${process.pid}-${randomBytes(6).toString('hex')}.partial`);
  // An empty file is what VACUUM INTO accepts besides none; created here so that its mode is ours.
  closeSync(openSync(partial, 'wx', 0o600));
  try {
    const sqlite = openConnection(source, { readonly: true });
    try {
      sqlite.prepare('VACUUM INTO ?').run(partial);
    } finally {
      sqlite.close();
    }
    fsyncFile(partial, 'r+');
    // A hard link fails when the name exists (rename would replace it): the destination stays new.
    linkSync(partial, destination);
  } finally {
    unlinkSync(partial);
  }
  fsyncFile(dirname(destination), 'r');
  return { bytes: statSync(destination).size };
}

/** Flushes a file (`r+`) or a folder's entries (`r`) to disk. */
export function fsyncFile(path: string, flags: 'r' | 'r+'): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
