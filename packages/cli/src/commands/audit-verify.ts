import { existsSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { HEAD_HASH, verifyAuditFile } from '@airlock/server';

/**
 * `airlock audit verify --db <file> [--expect-head <hash>]`: walks the hash chain of a server
 * database (read-only, safe while the server runs) and prints its head hash, to anchor elsewhere.
 * A trail cut short, or rewritten from some record on, verifies in itself; `--expect-head` with an
 * anchored head fails unless that record is still in the chain. Exit 0 when intact, 1 naming the
 * first bad record or the missing anchor, 2 when there is no file or the hash is malformed.
 */
export async function auditVerifyCommand(options: { db: string; expectHead?: string }, io: { stdout: Writable; stderr: Writable }): Promise<number> {
  if (!existsSync(options.db)) {
    io.stderr.write(`airlock: no database at ${options.db}\n`);
    return 2;
  }
  if (options.expectHead !== undefined && !HEAD_HASH.test(options.expectHead)) {
    io.stderr.write(`airlock: --expect-head takes a head hash as verify prints it (64 hex digits), not ${JSON.stringify(options.expectHead)}\n`);
    return 2;
  }
  const result = await verifyAuditFile(options.db, { expectHead: options.expectHead });
  if (result.ok) {
    io.stdout.write(`OK: ${result.records} records, head ${result.head ?? '(empty trail)'}\n`);
    if (result.anchor) {
      const { seq, following } = result.anchor;
      io.stdout.write(`anchored head found at seq ${seq}: ${following === 0 ? 'it is still the head' : `${following} record${following === 1 ? '' : 's'} follow it`}\n`);
    }
    return 0;
  }
  io.stdout.write(`FAILED at seq ${result.seq}: ${result.reason} (${result.records} records verified before it)\n`);
  return 1;
}
