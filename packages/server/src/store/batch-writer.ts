import type { CompiledQuery, Kysely, Transaction } from 'kysely';
import { decisionCountRows } from '../audit/decision-counts.js';
import { GENESIS_HASH, argRows, sealBatch, withDropped, type PreparedEntry, type Sealed } from '../audit/record.js';
import type { Database } from './schema.js';
import type { StoreWrite } from './store.js';

/** Rows per multi-row INSERT: 11 columns × 500 stays far below every dialect's parameter limit. */
const INSERT_CHUNK = 500;

/** Where a store's writes happen: in its own connection, or on another thread. */
export interface BatchWriter {
  /** Seals the entries onto the stored chain head and commits them with their writes, in one transaction. */
  commit(entries: readonly PreparedEntry[]): Promise<Sealed[]>;
  /** Writes that are not audited (housekeeping), in one transaction. */
  apply(writes: readonly StoreWrite[]): Promise<void>;
  /** Answers when the writer can write. */
  ping(): Promise<void>;
  /**
   * Answers once every record committed before the call is in the argument index. A writer that
   * indexes in the append transaction (KyselyBatchWriter below) needs none; SQLite's writer thread indexes after
   * the commit (sync-batch-writer.ts).
   */
  flushIndex?(): Promise<void>;
  /** Releases what the writer holds beyond the store's own connection. */
  close?(): Promise<void>;
}

/**
 * The batch writer over a Kysely connection. The chain head is read inside the transaction that
 * appends to it, so the chain cannot fork and a failed batch leaves nothing behind for the next.
 */
export interface KyselyBatchWriterOptions {
  /**
   * Runs first in every append transaction, before the chain head is read: PostgreSQL takes an
   * advisory lock here so that instances sharing the database append one chain, in turn.
   */
  beforeAppend?: (trx: Transaction<Database>) => Promise<void>;
}

export class KyselyBatchWriter implements BatchWriter {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: KyselyBatchWriterOptions = {},
  ) {}

  async commit(entries: readonly PreparedEntry[]): Promise<Sealed[]> {
    if (entries.length === 0) return [];
    return this.db.transaction().execute(async (trx) => {
      await this.options.beforeAppend?.(trx);
      const head = await trx.selectFrom('audit').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
      // Claims first: an entry whose claim changes no row is dropped (after the chain lock, so
      // another instance's committed claim is seen), the others are sealed in order.
      const kept: PreparedEntry[] = [];
      const held: boolean[] = [];
      for (const entry of entries) {
        if (entry.claim) {
          const claimed = await trx.executeQuery(writeQuery(this.db, entry.claim));
          if (!(Number(claimed.numAffectedRows ?? 0n) > 0)) {
            held.push(false);
            continue;
          }
        }
        for (const write of entry.writes) await trx.executeQuery(writeQuery(this.db, write));
        held.push(true);
        kept.push(entry);
      }
      const { rows, sealed } = sealBatch(kept, head ? { seq: Number(head.seq), hash: head.hash } : { seq: 0, hash: GENESIS_HASH });
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        await trx.insertInto('audit').values(rows.slice(i, i + INSERT_CHUNK)).execute();
      }
      const args = argRows(kept, rows);
      for (let i = 0; i < args.length; i += INSERT_CHUNK) {
        await trx.insertInto('audit_args').values(args.slice(i, i + INSERT_CHUNK)).execute();
      }
      // In key order, under the chain lock: instances never wait on each other's count rows.
      const counts = decisionCountRows(kept);
      for (let i = 0; i < counts.length; i += INSERT_CHUNK) {
        await trx
          .insertInto('decision_counts')
          .values(counts.slice(i, i + INSERT_CHUNK))
          .onConflict((conflict) =>
            conflict.columns(['minute', 'agent', 'tool', 'effect', 'rule', 'decided_by', 'code']).doUpdateSet((eb) => ({ count: eb('decision_counts.count', '+', eb.ref('excluded.count')) })),
          )
          .execute();
      }
      return kept.length === entries.length ? sealed : withDropped(held, sealed);
    });
  }

  async apply(writes: readonly StoreWrite[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      for (const write of writes) await trx.executeQuery(writeQuery(this.db, write));
    });
  }

  async ping(): Promise<void> {
    await this.db.selectFrom('audit').select('seq').limit(1).execute();
  }
}

/** The statement of one state change, compiled for the writer's dialect. */
export function writeQuery(db: Kysely<Database>, write: StoreWrite): CompiledQuery {
  switch (write.kind) {
    case 'agent.insert':
      return db.insertInto('agents').values(write.row).compile();
    case 'key.insert':
      return db.insertInto('api_keys').values(write.row).compile();
    case 'key.revoke':
      // The first revocation stays (a rotation raced by another instance changes nothing).
      return db.updateTable('api_keys').set({ revoked_at: write.at }).where('id', '=', write.id).where('revoked_at', 'is', null).compile();
    case 'user.insert':
      return db.insertInto('users').values(write.row).compile();
    case 'user.update':
      return db.updateTable('users').set(write.patch).where('id', '=', write.id).compile();
    case 'session.insert':
      return db.insertInto('sessions').values(write.row).compile();
    case 'identity.insert':
      return db.insertInto('user_identities').values(write.row).compile();
    case 'oidc_login.insert':
      return db.insertInto('oidc_logins').values(write.row).compile();
    case 'oidc_login.take':
      return db
        .updateTable('oidc_logins')
        .set({ taken_by: write.taker })
        .where('state_hash', '=', write.stateHash)
        .where('taken_by', 'is', null)
        .where('expires_at', '>', write.at)
        .compile();
    case 'oidc_logins.purge':
      return db.deleteFrom('oidc_logins').where('expires_at', '<=', write.expiredBy).compile();
    case 'session.delete':
      return db.deleteFrom('sessions').where('id_hash', '=', write.idHash).compile();
    case 'sessions.delete_user':
      return db.deleteFrom('sessions').where('user_id', '=', write.userId).compile();
    case 'sessions.purge':
      return db.deleteFrom('sessions').where('expires_at', '<=', write.expiredBy).compile();
    case 'token.insert':
      return db.insertInto('user_tokens').values(write.row).compile();
    case 'token.revoke':
      // The first revocation stays: a second (raced, or another instance) changes nothing.
      return db.updateTable('user_tokens').set({ revoked_at: write.at, revoked_by: write.by }).where('id', '=', write.id).where('revoked_at', 'is', null).compile();
    case 'token.touch':
      return db.updateTable('user_tokens').set({ last_used_at: write.at }).where('id', '=', write.id).compile();
    case 'approval.insert':
      return db.insertInto('approvals').values(write.row).compile();
    case 'approval.update':
      return db.updateTable('approvals').set(write.patch).where('id', '=', write.id).compile();
    case 'pause.insert':
      return db.insertInto('pauses').values(write.row).compile();
    case 'pause.resume':
      return db.updateTable('pauses').set({ resumed_by: write.by, resumed_at: write.at }).where('id', '=', write.id).where('resumed_at', 'is', null).compile();
    case 'idempotency.insert':
      // The first answer stays. A key stored meanwhile by another instance (the same retry sent to
      // two instances at once) must not fail this transaction: it carries other callers' records.
      return db
        .insertInto('idempotency')
        .values(write.row)
        .onConflict((conflict) => conflict.columns(['agent', 'key']).doNothing())
        .compile();
    case 'idempotency.claim':
      return db
        .updateTable('idempotency')
        .set({ claimed_at: write.at, claim_token: write.token })
        .where('agent', '=', write.agent)
        .where('key', '=', write.key)
        .where('decision_id', '=', write.decisionId)
        .where('claimed_at', 'is', null)
        .compile();
    case 'idempotency.replace': {
      const { agent, key, ...row } = write.row;
      return db
        .updateTable('idempotency')
        .set({ claimed_at: null, claim_token: null, ...row }).where('agent', '=', agent).where('key', '=', key).where('decision_id', '=', write.replaces).compile();
    }
    case 'idempotency.purge':
      return db.deleteFrom('idempotency').where('created_at', '<', write.before).compile();
    case 'policy.insert':
      return db.insertInto('policy_versions').values(write.row).compile();
    case 'policy.activate':
      return db.insertInto('policy_activations').values(write.row).compile();
    case 'delivery.insert':
      return db.insertInto('notification_deliveries').values(write.row).compile();
    case 'forwarder.ensure':
      return db
        .insertInto('audit_forwarders')
        .values({ name: write.name, seq: 0, holder: '', lease_until: 0, updated_at: write.at })
        .onConflict((conflict) => conflict.column('name').doNothing())
        .compile();
    case 'forwarder.lease':
      return db
        .updateTable('audit_forwarders')
        .set({ holder: write.holder, lease_until: write.until, updated_at: write.at })
        .where('name', '=', write.name)
        .where((eb) => eb.or([eb('holder', '=', write.holder), eb('lease_until', '<=', write.at)]))
        .compile();
    case 'forwarder.ack':
      // Fenced by the lease, and never backwards.
      return db
        .updateTable('audit_forwarders')
        .set({ seq: write.seq, lease_until: write.until, updated_at: write.at })
        .where('name', '=', write.name)
        .where('holder', '=', write.holder)
        .where('seq', '<=', write.seq)
        .compile();
    case 'outcome.insert':
      return db
        .insertInto('outcomes')
        .values(write.row)
        .onConflict((conflict) => conflict.column('decision_id').doNothing())
        .compile();
    case 'outcome.finish':
      return db.updateTable('outcomes').set(write.patch).where('decision_id', '=', write.decisionId).where('status', '=', 'started').compile();
    case 'outcome.duplicate':
      return db
        .updateTable('outcomes')
        .set((eb) => ({ duplicates: eb('duplicates', '+', 1) }))
        .where('decision_id', '=', write.decisionId)
        .compile();
    case 'forwarder.release':
      return db.updateTable('audit_forwarders').set({ holder: '', lease_until: 0 }).where('name', '=', write.name).where('holder', '=', write.holder).compile();
  }
}
