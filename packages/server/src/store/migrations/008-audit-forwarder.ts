import type { Kysely } from 'kysely';

/**
 * The audit webhook forwarder's progress, one row per forwarder name: the last seq the receiver
 * acknowledged (a restart resumes after it), and the lease that lets one instance forward at a
 * time (`holder` until `lease_until`, epoch ms).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audit_forwarders')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('lease_until', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}
