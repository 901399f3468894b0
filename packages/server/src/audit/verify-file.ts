import { ARCHIVE_APPLICATION_ID } from '../store/sqlite/archive.js';
import { openConnection } from '../store/sqlite/connection.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { AuditArchiveRow } from '../store/schema.js';
import { auditRows, verifyChain, type VerifyResult } from './verify.js';

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
    const archive = sqlite.pragma('application_id', { simple: true }) === ARCHIVE_APPLICATION_ID;
    if (!sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_archives'").get()) return { base: undefined, archive };
    const row = sqlite.prepare('SELECT * FROM audit_archives ORDER BY seq DESC LIMIT 1').get() as AuditArchiveRow | undefined;
    const base = row && { ...row, seq: Number(row.seq), at: Number(row.at), first_seq: Number(row.first_seq), archived_at: Number(row.archived_at) };
    return { base, archive };
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
