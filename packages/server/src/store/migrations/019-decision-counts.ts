import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * Decisions counted per minute by (agent, tool, effect, rule, decider, error code): the overview,
 * fleet, anomaly and quarantine counts read these instead of every decision record in their range
 * (docs/design-notes.md "Decision counts"). Both stores add to them in the append transaction, so
 * they hold exactly the committed decisions. The key is the primary key; SQLite keeps the table in
 * it (WITHOUT ROWID), minute first, so a batch's additions land on the same few pages at the end.
 *
 * Every decision already in the trail is counted here, in one statement.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  let table = db.schema
    .createTable('decision_counts')
    .addColumn('minute', 'bigint', (c) => c.notNull())
    .addColumn('agent', 'text', (c) => c.notNull())
    .addColumn('tool', 'text', (c) => c.notNull())
    .addColumn('effect', 'text', (c) => c.notNull())
    .addColumn('rule', 'text', (c) => c.notNull())
    .addColumn('decided_by', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('count', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('decision_counts_pk', ['minute', 'agent', 'tool', 'effect', 'rule', 'decided_by', 'code']);
  if (!postgres) table = table.modifyEnd(sql`without rowid`);
  await table.execute();
  // One agent's counts (a quarantine's count of its blocks, the agent page): its minutes only, not
  // every agent's minutes in the range. A second b-tree, written once per key a batch adds to.
  await db.schema.createIndex('decision_counts_agent').on('decision_counts').columns(['agent', 'minute']).execute();
  const field = (path: string) =>
    // A `\u0000` escape anywhere in a record (accepted before invalid_text) fails PostgreSQL's JSON
    // functions for the whole record: read as U+FFFD (pgJson in kysely-store.ts).
    postgres
      ? sql`coalesce(replace(payload, ${sql.lit('\\u0000')}, ${sql.lit('\\ufffd')})::json #>> ${sql.lit(`{${path.replaceAll('.', ',')}}`)}, '')`
      : sql`coalesce(json_extract(payload, ${sql.lit(`$.${path}`)}), '')`;
  await sql`
    insert into decision_counts (minute, agent, tool, effect, rule, decided_by, code, count)
    select (at / 60000) * 60000, coalesce(agent, ''), coalesce(tool, ''), coalesce(effect, ''), coalesce(rule, ''),
      ${field('data.decision.decidedBy')}, ${field('data.decision.error.code')}, count(*)
    from audit where type = 'decision'
    group by 1, 2, 3, 4, 5, 6, 7`.execute(db);
}
