import { PostgresAdapter, type Kysely } from 'kysely';

/**
 * Search plans that stay fast when a filter matches many records (docs/search.md, bench/README.md "Search"):
 *
 * - `audit_args_seq` (seq, path, ...): a record's indexed argument fields, so a dense argument
 *   filter is answered by walking the trail newest first and probing each record (EXISTS), instead
 *   of reading every matching index entry before picking the newest page. Covering on both
 *   databases: SQLite's WITHOUT ROWID table adds its primary key (path, text_value, seq) to every
 *   index, so (seq, path, num_value) holds all four columns; PostgreSQL lists them.
 * - `audit_at_seq` (at, seq) replaces `audit_at` (at): a time window becomes a seq range from the
 *   index alone (min and max seq of the records in the window), so the page is read from a seq
 *   index over just that range. `audit.seq` is `bigint primary key`, which on SQLite is not the
 *   rowid, so (at) alone would need a table read per record for its seq.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createIndex('audit_args_seq')
    .on('audit_args')
    .columns(postgres ? ['seq', 'path', 'text_value', 'num_value'] : ['seq', 'path', 'num_value'])
    .execute();
  await db.schema.createIndex('audit_at_seq').on('audit').columns(['at', 'seq']).execute();
  await db.schema.dropIndex('audit_at').execute();
}
