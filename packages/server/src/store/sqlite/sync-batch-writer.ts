import type Sqlite from 'better-sqlite3';
import { DummyDriver, Kysely, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler } from 'kysely';
import { GENESIS_HASH, argRows, sealBatch, type PreparedEntry, type Sealed } from '../../audit/record.js';
import type { AuditArgsRow, AuditRow, Database } from '../schema.js';
import { writeQuery } from '../batch-writer.js';
import type { StoreWrite } from '../store.js';

/** Distinct statement texts kept prepared; state changes have a dozen shapes, so this never fills. */
const STATEMENT_CACHE_LIMIT = 256;

/**
 * The SQLite writer thread's batch writer: the same queries as `KyselyBatchWriter` (Kysely builds
 * them, compile-only), run synchronously on better-sqlite3 prepared statements in one
 * `BEGIN IMMEDIATE` transaction. Kysely's async driver costs a promise chain and a connection
 * mutex per statement; on the decide path that was most of the writer's time, so here a batch is
 * one synchronous call: read the chain head, seal, insert, commit (the fsync).
 */
export class SqliteSyncBatchWriter {
  private readonly compiler = new Kysely<Database>({
    dialect: {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new SqliteIntrospector(db),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
  });
  private readonly statements = new Map<string, Sqlite.Statement>();
  private readonly head: Sqlite.Statement<[], { seq: number; hash: string }>;
  private readonly insertAudit: Sqlite.Statement<AuditRow>;
  private readonly insertArg: Sqlite.Statement<AuditArgsRow>;
  private readonly commitTx: Sqlite.Transaction<(entries: readonly PreparedEntry[]) => Sealed[]>;
  private readonly applyTx: Sqlite.Transaction<(writes: readonly StoreWrite[]) => void>;

  constructor(private readonly sqlite: Sqlite.Database) {
    this.head = sqlite.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1');
    this.insertAudit = sqlite.prepare(
      'INSERT INTO audit (seq, at, type, actor, agent, tool, effect, rule, payload, prev_hash, hash) ' +
        'VALUES (@seq, @at, @type, @actor, @agent, @tool, @effect, @rule, @payload, @prev_hash, @hash)',
    );
    this.insertArg = sqlite.prepare('INSERT INTO audit_args (seq, path, text_value, num_value) VALUES (@seq, @path, @text_value, @num_value)');
    this.commitTx = sqlite.transaction((entries: readonly PreparedEntry[]) => {
      // The head is read inside the transaction that appends to it: the chain cannot fork, and a
      // failed batch leaves nothing behind for the next.
      const head = this.head.get();
      const { rows, sealed } = sealBatch(entries, head ? { seq: Number(head.seq), hash: head.hash } : { seq: 0, hash: GENESIS_HASH });
      for (const entry of entries) for (const write of entry.writes) this.run(write);
      for (const row of rows) this.insertAudit.run(row);
      for (const arg of argRows(entries, rows)) this.insertArg.run(arg);
      return sealed;
    });
    this.applyTx = sqlite.transaction((writes: readonly StoreWrite[]) => {
      for (const write of writes) this.run(write);
    });
  }

  commit(entries: readonly PreparedEntry[]): Sealed[] {
    if (entries.length === 0) return [];
    // IMMEDIATE: take the write lock at BEGIN, so a concurrent writer (another process on the
    // same file) makes this wait for busy_timeout instead of failing at the first insert.
    return this.commitTx.immediate(entries);
  }

  apply(writes: readonly StoreWrite[]): void {
    this.applyTx.immediate(writes);
  }

  ping(): void {
    this.head.get();
  }

  private run(write: StoreWrite): void {
    const query = writeQuery(this.compiler, write);
    let statement = this.statements.get(query.sql);
    if (!statement) {
      if (this.statements.size >= STATEMENT_CACHE_LIMIT) this.statements.clear();
      statement = this.sqlite.prepare(query.sql);
      this.statements.set(query.sql, statement);
    }
    statement.run(...(query.parameters as unknown[]));
  }
}
