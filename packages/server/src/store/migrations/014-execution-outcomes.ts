import type { Kysely } from 'kysely';

/**
 * What ran after a decision (execution outcomes, docs/outcomes.md): one row per decision whose
 * call an agent reported, keyed by the decision id so a decision has one outcome whatever races.
 * `status` is `started` until the call finishes (`succeeded` | `failed`). `duplicates` counts the
 * outcomes refused because one was already recorded (calls reported twice). The audit trail holds
 * the same facts (`call.executed` / `call.failed`); this table is what orphans are found with.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('outcomes')
    .addColumn('decision_id', 'text', (c) => c.primaryKey())
    .addColumn('agent', 'text', (c) => c.notNull())
    .addColumn('tool', 'text', (c) => c.notNull())
    .addColumn('approval_id', 'text')
    .addColumn('decision_effect', 'text', (c) => c.notNull())
    .addColumn('decided_at', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('finished_at', 'bigint')
    .addColumn('duration_ms', 'double precision')
    .addColumn('error_class', 'text')
    .addColumn('error_message', 'text')
    .addColumn('result_digest', 'text')
    .addColumn('result_size', 'bigint')
    .addColumn('reported_at', 'bigint', (c) => c.notNull())
    .addColumn('duplicates', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('outcomes_agent_decided').on('outcomes').columns(['agent', 'decided_at']).execute();
  await db.schema.createIndex('outcomes_approval').on('outcomes').column('approval_id').execute();
  await db.schema.createIndex('outcomes_tool_finished').on('outcomes').columns(['tool', 'finished_at']).execute();
}
