import type { Kysely } from 'kysely';

/**
 * Failure-rate anomalies (docs/lifecycle.md) count the outcomes reported in each closed bucket, by
 * the server's time of the report (`reported_at`): this index keeps that a range scan.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('outcomes_reported').on('outcomes').column('reported_at').execute();
}
