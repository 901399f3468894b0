import type { Kysely } from 'kysely';

/**
 * Approval routing: approver groups on users; on approvals the route (tiers), the current tier,
 * the approvals collected so far, the escalation deadline, the edited call, and the single-use
 * link tokens spent; and the notification delivery log.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('groups', 'text', (c) => c.notNull().defaultTo('[]')).execute();

  // One column per statement: SQLite's ALTER TABLE adds one column at a time.
  const approvals = [
    // JSON of the route the decision resolved; '' for approvals opened before routing existed.
    db.schema.alterTable('approvals').addColumn('route', 'text', (c) => c.notNull().defaultTo('')),
    db.schema.alterTable('approvals').addColumn('tier', 'integer', (c) => c.notNull().defaultTo(0)),
    db.schema.alterTable('approvals').addColumn('votes', 'text', (c) => c.notNull().defaultTo('[]')),
    db.schema.alterTable('approvals').addColumn('deadline_at', 'bigint'),
    db.schema.alterTable('approvals').addColumn('edited_args', 'text'),
    db.schema.alterTable('approvals').addColumn('edited_call_hash', 'text'),
    db.schema.alterTable('approvals').addColumn('used_tokens', 'text', (c) => c.notNull().defaultTo('[]')),
  ];
  for (const statement of approvals) await statement.execute();
  await db.schema.createIndex('approvals_status_deadline').on('approvals').columns(['status', 'deadline_at']).execute();
  await db.schema.createIndex('approvals_rule_created').on('approvals').columns(['rule', 'created_at']).execute();

  await db.schema
    .createTable('notification_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    /** One id per message; its attempts share it. */
    .addColumn('delivery_id', 'text', (c) => c.notNull())
    .addColumn('approval_id', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('error', 'text')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint')
    .execute();
  await db.schema.createIndex('notification_deliveries_approval').on('notification_deliveries').columns(['approval_id', 'at']).execute();
  await db.schema.createIndex('notification_deliveries_at').on('notification_deliveries').column('at').execute();
}
