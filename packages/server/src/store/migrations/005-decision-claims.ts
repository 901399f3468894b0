import type { Kysely } from 'kysely';

/**
 * One decision, one run: an allowed decision stored under an idempotency key records when the
 * call it allows started (`claimed_at`, epoch ms) and which attempt started it (`claim_token`,
 * the SDK's claim id, so a retry of a lost answer is recognised). Null until the call runs.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('idempotency').addColumn('claimed_at', 'bigint').execute();
  await db.schema.alterTable('idempotency').addColumn('claim_token', 'text').execute();
}
