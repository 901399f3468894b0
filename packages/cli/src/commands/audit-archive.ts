import type { Writable } from 'node:stream';
import { parseDuration } from '@airlock/core';
import { ArchiveIncomplete, archivePostgresAudit, archiveSqliteAudit } from '@airlock/server';
import { refusedFiles } from './new-file.js';

/**
 * `airlock audit archive --db <file> --before <when> --to <new file>`: moves the audit records made
 * before `when` (a date, or a duration ago such as 180d) out of a server database into a new
 * archive file, while the server runs (docs/operations.md "Archiving old records"). The archive
 * verifies on its own; the trail goes on from the last archived record, whose hash the command
 * prints, and records the archive in itself (`audit.archived`). Exit 0 when archived or when
 * nothing was old enough; 1 when refused after starting (the archive did not verify, another
 * archive ran meanwhile); 2 for usage (no database, the destination exists, a bad date, or a date
 * inside what must stay: the longest limit window, at least 7 days).
 */
export async function auditArchiveCommand(
  options: { db: string; databaseUrl?: string | undefined; schema?: string | undefined; before: string; to: string },
  io: { stdout: Writable; stderr: Writable },
  now: () => number = Date.now,
): Promise<number> {
  // A PostgreSQL trail (--database-url) is archived the same way, into the same kind of file.
  const source = options.databaseUrl === undefined ? options.db : redacted(options.databaseUrl, options.schema);
  const refused = refusedFiles(options.databaseUrl === undefined ? options.db : undefined, options.to, 'an archive');
  if (refused) {
    io.stderr.write(`airlock: ${refused}\n`);
    return 2;
  }
  const nowMs = now();
  const beforeMs = instant(options.before, nowMs);
  if (beforeMs === undefined) {
    io.stderr.write(`airlock: --before takes a date (2026-06-30, 2026-06-30T12:00:00Z) or a duration ago (180d), not ${JSON.stringify(options.before)}\n`);
    return 2;
  }
  let outcome;
  try {
    outcome =
      options.databaseUrl === undefined
        ? await archiveSqliteAudit(options.db, options.to, { beforeMs, nowMs, actor: 'system' })
        : await archivePostgresAudit(options.databaseUrl, options.to, { beforeMs, nowMs, actor: 'system', schema: options.schema });
  } catch (error) {
    // Past the recording transaction the archive is (or may be) part of the history: say so, never "nothing removed".
    if (error instanceof ArchiveIncomplete) io.stderr.write(`airlock: archive not finished: ${error.message}\n`);
    else io.stderr.write(`airlock: archive failed, nothing removed from ${source}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  if (outcome.kind === 'refused') {
    io.stderr.write(`airlock: ${outcome.reason}\n`);
    return outcome.reason.startsWith('the archive did not verify') ? 1 : 2;
  }
  if (outcome.kind === 'nothing') {
    io.stdout.write(`Nothing to archive: ${outcome.reason}\n`);
    return 0;
  }
  const { from, through, records, hash, bytes, attestedBy, clippedBy } = outcome;
  io.stdout.write(
    `Archived records ${from}–${through} (${records}) to ${options.to}: ${(bytes / 2 ** 20).toFixed(1)} MiB; it verifies, ending at ${hash}\n` +
      `The trail in ${source} now starts after record ${through}; record ${attestedBy} (audit.archived) says so.\n` +
      (clippedBy ? `Stopped at ${through}: ${clippedBy}.\n` : '') +
      `Check the whole history: airlock audit verify --db ${options.to} ${options.databaseUrl === undefined ? `--db ${options.db}` : `--database-url <url>${options.schema === undefined ? '' : ` --schema ${options.schema}`}`}\n`,
  );
  return 0;
}

/** A PostgreSQL URL as printed: without its password. */
export function redacted(url: string, schema: string | undefined): string {
  let shown = url;
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    // libpq also takes the password as a query parameter.
    for (const key of [...parsed.searchParams.keys()]) if (key.toLowerCase() === 'password') parsed.searchParams.set(key, '***');
    shown = parsed.toString();
  } catch {
    shown = 'the PostgreSQL database';
  }
  return schema === undefined ? shown : `${shown} (schema ${schema})`;
}

/** A date (ISO 8601, a bare date meaning its UTC midnight) or a duration before now; undefined if neither. */
function instant(text: string, nowMs: number): number | undefined {
  const ago = /^\d+[smhd]$/.test(text) ? parseDuration(text) : undefined;
  if (ago !== undefined) return nowMs - ago;
  if (!/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}
