import type { Kysely } from 'kysely';

/**
 * Management from the console: a person can be disabled (no sign-in, sessions ended, tokens
 * refused) without deleting them, so the audit trail keeps naming who they were.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('disabled_at', 'bigint').execute();
}
