import { existsSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { verifyAuditFile } from '@airlock/server';

/**
 * `airlock audit verify --db <file>`: walks the hash chain of a server database (read-only, safe
 * while the server runs). Exit 0 when intact, 1 naming the first bad record, 2 when there is no file.
 */
export async function auditVerifyCommand(options: { db: string }, io: { stdout: Writable; stderr: Writable }): Promise<number> {
  if (!existsSync(options.db)) {
    io.stderr.write(`airlock: no database at ${options.db}\n`);
    return 2;
  }
  const result = await verifyAuditFile(options.db);
  if (result.ok) {
    io.stdout.write(`OK: ${result.records} records\n`);
    return 0;
  }
  io.stdout.write(`FAILED at seq ${result.seq}: ${result.reason} (${result.records} records verified before it)\n`);
  return 1;
}
