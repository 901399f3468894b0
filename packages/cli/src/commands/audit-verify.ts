import { existsSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { HEAD_HASH, postgresTrailBase, trailFileInfo, verifyAuditFile, verifyPostgresTrail, type VerifyResult } from '@airlock/server';
import { redacted } from './audit-archive.js';

/**
 * `airlock audit verify --db <file> [--db <file> …] [--expect-head <hash>]`: walks the hash chain
 * of a server database (read-only, safe while the server runs) and prints its head hash, to anchor
 * elsewhere. A trail cut short, or rewritten from some record on, verifies in itself;
 * `--expect-head` with an anchored head fails unless that record is still in the chain.
 *
 * Once records were archived (`airlock audit archive`), a database's chain starts after the last
 * archived record, and must hold the `audit.archived` record that says so. Several files, oldest
 * first (the archives, then the server database), verify as one history: each starts where the
 * one before ends, every archive is attested, and an anchored head may be in any of them.
 * A PostgreSQL trail (`--database-url`, `--schema`) is verified last, after the archive files:
 * `airlock audit verify --db <archive 1> --db <archive 2> --database-url <url>`.
 * Exit 0 when intact, 1 naming the first bad record or the missing anchor, 2 when a file is
 * missing or the hash is malformed.
 */
export async function auditVerifyCommand(
  options: { db?: string | string[] | undefined; databaseUrl?: string | undefined; schema?: string | undefined; expectHead?: string | undefined },
  io: { stdout: Writable; stderr: Writable },
): Promise<number> {
  const files = options.db === undefined ? [] : Array.isArray(options.db) ? options.db : [options.db];
  if (files.length === 0 && options.databaseUrl === undefined) {
    io.stderr.write('airlock: name the trail: --db <file> (repeat it for archives, oldest first) or --database-url <url>\n');
    return 2;
  }
  for (const file of files) {
    if (!existsSync(file)) {
      io.stderr.write(`airlock: no database at ${file}\n`);
      return 2;
    }
  }
  if (options.expectHead !== undefined && !HEAD_HASH.test(options.expectHead)) {
    io.stderr.write(`airlock: --expect-head takes a head hash as verify prints it (64 hex digits), not ${JSON.stringify(options.expectHead)}\n`);
    return 2;
  }
  const sources: Source[] = files.map(fileSource);
  if (options.databaseUrl !== undefined) sources.push(postgresSource(options.databaseUrl, options.schema));
  try {
    if (sources.length === 1) return await verifyOne(sources[0] as Source, options.expectHead, io);
    return await verifyHistory(sources, options.expectHead, io);
  } catch (error) {
    io.stderr.write(`airlock: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

/** A trail to verify: a database file (SQLite), or a PostgreSQL database. */
interface Source {
  name: string;
  postgres?: true;
  base(): Promise<{ seq: number; hash: string } | undefined>;
  verify(options: { expectHead?: string | undefined; anchorOptional?: boolean }): Promise<VerifyResult>;
}

function fileSource(file: string): Source {
  return { name: file, base: () => Promise.resolve(trailFileInfo(file).base), verify: (options) => verifyAuditFile(file, options) };
}

function postgresSource(url: string, schema: string | undefined): Source {
  return { name: redacted(url, schema), postgres: true, base: () => postgresTrailBase(url, { schema }), verify: (options) => verifyPostgresTrail(url, { schema, ...options }) };
}

async function verifyOne(source: Source, expectHead: string | undefined, io: { stdout: Writable }): Promise<number> {
  const result = await source.verify({ expectHead });
  if (!result.ok) return failed(result, io);
  io.stdout.write(`OK: ${result.records} records, head ${result.head ?? '(empty trail)'}\n`);
  if (result.base) {
    const { seq, file: archive, attestedBy } = result.base;
    const where = attestedBy === null ? 'not attested in this file (an archive: verify it with the files after it)' : `attested by record ${attestedBy}`;
    io.stdout.write(`starts after archived record ${seq}${archive ? ` (${archive})` : ''}: ${where}\n`);
  }
  if (result.anchor) {
    const { seq, following } = result.anchor;
    io.stdout.write(`anchored head found at seq ${seq}: ${following === 0 ? 'it is still the head' : `${following} record${following === 1 ? '' : 's'} follow it`}\n`);
  }
  return 0;
}

/** Oldest first: each file's chain continues the one before, and every base is attested somewhere after it. */
async function verifyHistory(sources: Source[], expectHead: string | undefined, io: { stdout: Writable }): Promise<number> {
  let end: { seq: number; hash: string } | undefined;
  let total = 0;
  let anchor: { file: string; seq: number } | undefined;
  const bases: { file: string; seq: number; hash: string }[] = [];
  const attested = new Set<string>();
  for (const source of sources) {
    const file = source.name;
    const base = await source.base();
    if ((base?.seq ?? 0) !== (end?.seq ?? 0) || (end && base?.hash !== end.hash)) {
      const starts = base ? `after record ${base.seq}` : 'at the first record';
      io.stdout.write(`FAILED: ${file} starts ${starts}, but the file before it ends ${end ? `at record ${end.seq}` : 'nowhere (it is the first)'}: give the archives oldest first, none missing\n`);
      return 1;
    }
    if (base) bases.push({ file, seq: base.seq, hash: base.hash });
    const result = await source.verify({ expectHead, anchorOptional: true });
    if (!result.ok) return failed(result, io, file);
    for (const archived of result.archives ?? []) attested.add(`${archived.through}:${archived.hash}`);
    if (result.anchor && !anchor) anchor = { file, seq: result.anchor.seq };
    total += result.records;
    end = { seq: (base?.seq ?? 0) + result.records, hash: result.head ?? '' };
  }
  for (const base of bases) {
    if (!attested.has(`${base.seq}:${base.hash}`)) {
      io.stdout.write(`FAILED: ${base.file} starts after record ${base.seq}, and no audit.archived record in these files attests that archive\n`);
      return 1;
    }
  }
  if (expectHead !== undefined && !anchor) {
    io.stdout.write(`FAILED: anchored head ${expectHead} not found in any of the files: the history was truncated or rewritten\n`);
    return 1;
  }
  const parts = sources.some((source) => source.postgres) ? `${sources.length - 1} file${sources.length === 2 ? '' : 's'} and the database` : `${sources.length} files`;
  io.stdout.write(`OK: ${total} records in ${parts}, from the first record to ${end?.seq ?? 0}, head ${end?.hash || '(empty trail)'}\n`);
  if (anchor) io.stdout.write(`anchored head found at seq ${anchor.seq} (${anchor.file})\n`);
  return 0;
}

function failed(result: Extract<VerifyResult, { ok: false }>, io: { stdout: Writable }, file?: string): number {
  io.stdout.write(`FAILED${file ? ` in ${file}` : ''} at seq ${result.seq}: ${result.reason} (${result.records} records verified before it)\n`);
  return 1;
}
