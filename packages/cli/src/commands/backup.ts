import { existsSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { backupSqliteFile, verifyAuditFile } from '@airlock/server';
import { refusedFiles } from './new-file.js';

/**
 * `airlock backup --db <file> --to <file>`: a consistent copy of a server database, taken while
 * the server runs (docs/operations.md), then its audit chain verified and its head hash printed, to
 * anchor elsewhere and check after a restore (`airlock audit verify --expect-head`). Exit 0 with a
 * copy whose chain verifies; 1 when the copy was made but its chain does not verify (the source
 * is damaged the same way: the copy is kept, it is still the trail as it was); 2 when nothing was
 * copied (no database, the destination exists, no such folder).
 */
export async function backupCommand(options: { db: string; to: string }, io: { stdout: Writable; stderr: Writable }): Promise<number> {
  const refused = refusedFiles(options.db, options.to, 'a backup');
  if (refused) {
    io.stderr.write(`airlock: ${refused}\n`);
    return 2;
  }
  const started = performance.now();
  let bytes: number;
  try {
    ({ bytes } = backupSqliteFile(options.db, options.to));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    // The copy gets its name last: if it has one, only flushing its folder failed.
    if (existsSync(options.to)) {
      io.stderr.write(`airlock: ${options.to} was written, but its folder could not be flushed to disk: ${reason}\n`);
      return 1;
    }
    io.stderr.write(`airlock: backup failed, nothing written to ${options.to}: ${reason}\n`);
    return 2;
  }
  const seconds = (performance.now() - started) / 1000;
  const result = await verifyAuditFile(options.to);
  if (!result.ok) {
    io.stdout.write(`Copied to ${options.to}, but its audit chain FAILED at seq ${result.seq}: ${result.reason} (${result.records} records verified before it). The source is damaged the same way: airlock audit verify --db ${options.db}\n`);
    return 1;
  }
  io.stdout.write(
    `Backed up to ${options.to}: ${(bytes / 2 ** 20).toFixed(1)} MiB in ${seconds.toFixed(1)} s; its audit chain verifies: ${result.records} records, head ${result.head ?? '(empty trail)'}\n`,
  );
  return 0;
}
