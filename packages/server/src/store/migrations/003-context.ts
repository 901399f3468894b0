import type { Kysely } from 'kysely';

/**
 * Context-aware governance: the session attributes and stated intent of an approval's call, and
 * the kill switch (pauses of the fleet, an agent, a role or a tool, manual or by quarantine).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // One column per statement: SQLite's ALTER TABLE adds one column at a time.
  await db.schema.alterTable('approvals').addColumn('session_attributes', 'text').execute();
  await db.schema.alterTable('approvals').addColumn('intent', 'text').execute();
  await db.schema
    .createTable('pauses')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('resumed_by', 'text')
    .addColumn('resumed_at', 'bigint')
    .execute();
  await db.schema.createIndex('pauses_resumed').on('pauses').column('resumed_at').execute();
}
