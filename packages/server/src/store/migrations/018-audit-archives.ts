import type { Kysely } from 'kysely';

/**
 * Archived prefixes of the audit trail (docs/operations.md "Archiving old records"): one row per
 * `airlock audit archive` run, naming the last record it moved out (`seq`, `hash`) and the file it
 * went to. The newest row is the trail's base: verification starts after its record, from its hash,
 * as it starts from the genesis hash when no row exists. Each row is attested by an
 * `audit.archived` record in the chain itself, written in the same transaction.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audit_archives')
    .addColumn('seq', 'bigint', (c) => c.primaryKey())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('first_seq', 'bigint', (c) => c.notNull())
    .addColumn('file', 'text', (c) => c.notNull())
    .addColumn('archived_at', 'bigint', (c) => c.notNull())
    .execute();
}
