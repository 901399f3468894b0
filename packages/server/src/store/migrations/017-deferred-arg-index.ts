import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * The argument index written after the commit (docs/search.md "When a record is searchable"):
 * on SQLite the writer thread appends a batch's audit records and answers, then adds their
 * `audit_args` rows in transactions of its own while it has nothing else to do, so a decision
 * never waits for its index rows. `search_index.seq` is how far that index is complete: every
 * decision record at or below it has its rows; the writer catches up from it when it starts
 * (after a crash, the rows of records past it are rebuilt from their payloads).
 *
 * PostgreSQL writes the rows in the append transaction (instances share the database and any of
 * them answers a search), so there the row stays at the value set here and nothing reads it.
 * Every record written before this migration has its rows: the watermark starts at the head.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('search_index')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .execute();
  await sql`insert into search_index (name, seq) select 'audit_args', coalesce(max(seq), 0) from audit`.execute(db);
}
