import type { Kysely } from 'kysely';

/** Timed pauses: a pause may end by itself (`ends_at`, epoch ms); null until a person resumes it. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('pauses').addColumn('ends_at', 'bigint').execute();
}
