import type { Kysely } from 'kysely';

/** A note on each policy version: what changed and why, written by the author on upload. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('policy_versions').addColumn('note', 'text').execute();
}
