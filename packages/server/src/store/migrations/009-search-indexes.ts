import { PostgresAdapter, sql, type Kysely } from 'kysely';
import { payloadArgLeaves } from '../../audit/arg-index.js';

/** Decision records read per backfill step. */
const PAGE = 1000;

/**
 * Argument search (docs/search.md): `audit_args`, one row per indexed scalar field of each
 * decision's call arguments (audit/arg-index.ts), looked up by (path, text_value) for equality and
 * prefix (the primary key) and by (path, num_value) for ranges (numbers only), `seq` last so a page in seq order comes from the
 * index. PostgreSQL compares text_value in the "C" collation (byte order, as SQLite's BINARY), so
 * a prefix is an index range on both. Records written before this migration are indexed here.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  // The primary key is the text index: (path, text_value, seq) is unique (one value per path per
  // record). SQLite keeps the table in that index itself (WITHOUT ROWID): one b-tree written, not two.
  let table = db.schema
    .createTable('audit_args')
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('text_value', 'text', (c) => (postgres ? c.notNull().modifyFront(sql`collate "C"`) : c.notNull()))
    .addColumn('num_value', 'double precision')
    .addPrimaryKeyConstraint('audit_args_pk', ['path', 'text_value', 'seq']);
  if (!postgres) table = table.modifyEnd(sql`without rowid`);
  await table.execute();
  // Ranges: numbers only (a comparison on num_value implies it is not null, so both databases use it).
  await db.schema.createIndex('audit_args_num').on('audit_args').columns(['path', 'num_value', 'seq']).where(sql.ref('num_value'), 'is not', null).execute();

  // Time windows of any record type (the audit view's from / to): (type, at) serves one type only.
  await db.schema.createIndex('audit_at').on('audit').column('at').execute();

  const store = db as Kysely<{ audit: { seq: number; type: string; payload: string }; audit_args: { seq: number; path: string; text_value: string; num_value: number | null } }>;
  for (let after = 0; ; ) {
    const page = await store.selectFrom('audit').select(['seq', 'payload']).where('type', '=', 'decision').where('seq', '>', after).orderBy('seq').limit(PAGE).execute();
    const rows = page.flatMap((record) =>
      payloadArgLeaves(record.payload).map((leaf) => ({ seq: Number(record.seq), path: leaf.path, text_value: leaf.text, num_value: leaf.num })),
    );
    for (let i = 0; i < rows.length; i += 500) await store.insertInto('audit_args').values(rows.slice(i, i + 500)).execute();
    const last = page[page.length - 1];
    if (!last || page.length < PAGE) break;
    after = Number(last.seq);
  }
}
