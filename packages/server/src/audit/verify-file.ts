import type Sqlite from 'better-sqlite3';
import { openConnection } from '../store/sqlite/connection.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { AuditArchiveRow } from '../store/schema.js';
import { auditRows, verifyChain, type VerifyResult } from './verify.js';

/** SQLite's `application_id` of an archive file ('Arch', set by `airlock audit archive`): what tells it from a server database. */
export const ARCHIVE_APPLICATION_ID = 0x41726368;

/** A database's trail base (its newest audit_archives row), read on an open connection; none before migration 018. */
export function readTrailBase(sqlite: Sqlite.Database): AuditArchiveRow | undefined {
  if (!sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_archives'").get()) return undefined;
  // better-sqlite3 answers integer columns as numbers: the row is the store's shape as it is.
  return sqlite.prepare('SELECT * FROM audit_archives ORDER BY seq DESC LIMIT 1').get() as AuditArchiveRow | undefined;
}

/** What a database file says of its own trail: where it starts, and whether it is an archive file. */
export interface TrailFileInfo {
  base: AuditArchiveRow | undefined;
  /** Written by `airlock audit archive` (application_id): its base may be attested in a later file. */
  archive: boolean;
}

/** Reads a database file's base and kind (read-only; a file from before archiving has no base). */
export function trailFileInfo(file: string): TrailFileInfo {
  const sqlite = openConnection(file, { readonly: true });
  try {
    return { base: readTrailBase(sqlite), archive: sqlite.pragma('application_id', { simple: true }) === ARCHIVE_APPLICATION_ID };
  } finally {
    sqlite.close();
  }
}

/**
 * Verifies the audit chain of a database file, opened read-only (works while the server runs),
 * from its base: genesis, or the last archived record. A server database must attest its base
 * (an `audit.archived` record naming it); an archive file's base may be attested further on.
 */
export async function verifyAuditFile(file: string, options: { expectHead?: string; anchorOptional?: boolean } = {}): Promise<VerifyResult> {
  const { base, archive } = trailFileInfo(file);
  const store = await openSqliteStore(file, { readonly: true });
  try {
    return await verifyChain(auditRows((after, limit) => store.auditAfter(after, limit), 1000, base?.seq ?? 0), {
      ...options,
      ...(base ? { base } : {}),
      requireAttestation: !archive,
    });
  } finally {
    await store.close();
  }
}
