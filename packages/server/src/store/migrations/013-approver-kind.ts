import { sql, type Kysely } from 'kysely';

/**
 * Who decides approvals: a user account is a `person` or a `bot` (a service account such as a
 * demo harness or a script that approves automatically), and each resolved approval records the
 * kind of account that decided it, so time to decision can be counted for people only. Existing
 * accounts are people; existing decisions by a user were made by a person.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('kind', 'text', (c) => c.notNull().defaultTo('person')).execute();
  await db.schema.alterTable('approvals').addColumn('resolved_by_kind', 'text').execute();
  await sql`update approvals set resolved_by_kind = 'person' where resolved_by is not null and resolved_by <> 'system'`.execute(db);
}
