import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import { auditRows, verifyChain, type VerifyResult } from './verify.js';

/** Verifies the audit chain of a database file, opened read-only (works while the server runs). */
export async function verifyAuditFile(file: string, options: { expectHead?: string } = {}): Promise<VerifyResult> {
  const store = await openSqliteStore(file, { readonly: true });
  try {
    return await verifyChain(auditRows((after, limit) => store.auditAfter(after, limit)), options);
  } finally {
    await store.close();
  }
}
