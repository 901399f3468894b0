import type Sqlite from 'better-sqlite3';
import { DummyDriver, Kysely, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler } from 'kysely';
import { GENESIS_HASH, argRows, sealBatch, withDropped, type PreparedEntry, type Sealed } from '../../audit/record.js';
import type { AuditArgsRow, AuditRow, Database, OutcomeRow } from '../schema.js';
import { writeQuery } from '../batch-writer.js';
import type { StoreWrite } from '../store.js';

/** Distinct statement texts kept prepared; state changes have a dozen shapes, so this never fills. */
const STATEMENT_CACHE_LIMIT = 256;

/** The outcomes table's columns, in the order of the prepared insert. */
const OUTCOME_COLUMNS = [
  'decision_id',
  'agent',
  'tool',
  'approval_id',
  'decision_effect',
  'decided_at',
  'status',
  'started_at',
  'finished_at',
  'duration_ms',
  'error_class',
  'error_message',
  'result_digest',
  'result_size',
  'reported_at',
  'duplicates',
] as const satisfies readonly (keyof OutcomeRow)[];

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
  /**
   * `outcome.insert`, the one write a batch holds hundreds of (a batch of reported outcomes):
   * prepared once, as the audit insert is, instead of built and compiled by Kysely per row, which
   * cost ~0.1-0.2 ms a row here and held the decides committed behind the batch (bench:sdk p99).
   */
  private readonly insertOutcome: Sqlite.Statement<unknown[]>;
  private readonly commitTx: Sqlite.Transaction<(entries: readonly PreparedEntry[]) => Sealed[]>;
  private readonly applyTx: Sqlite.Transaction<(writes: readonly StoreWrite[]) => void>;

  constructor(private readonly sqlite: Sqlite.Database) {
    this.head = sqlite.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1');
    this.insertAudit = sqlite.prepare(
      'INSERT INTO audit (seq, at, type, actor, agent, tool, effect, rule, payload, prev_hash, hash) ' +
        'VALUES (@seq, @at, @type, @actor, @agent, @tool, @effect, @rule, @payload, @prev_hash, @hash)',
    );
    this.insertArg = sqlite.prepare('INSERT INTO audit_args (seq, path, text_value, num_value) VALUES (@seq, @path, @text_value, @num_value)');
    this.insertOutcome = sqlite.prepare(
      `INSERT INTO outcomes (${OUTCOME_COLUMNS.join(', ')}) VALUES (${OUTCOME_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (decision_id) DO NOTHING`,
    );
    this.commitTx = sqlite.transaction((entries: readonly PreparedEntry[]) => {
      // The head is read inside the transaction that appends to it: the chain cannot fork, and a
      // failed batch leaves nothing behind for the next.
      const head = this.head.get();
      // Claims first: an entry whose claim changes no row is dropped, the others sealed in order.
      const kept: PreparedEntry[] = [];
      const held: boolean[] = [];
      for (const entry of entries) {
        if (entry.claim && this.run(entry.claim) === 0) {
          held.push(false);
          continue;
        }
        for (const write of entry.writes) this.run(write);
        held.push(true);
        kept.push(entry);
      }
      const { rows, sealed } = sealBatch(kept, head ? { seq: Number(head.seq), hash: head.hash } : { seq: 0, hash: GENESIS_HASH });
      for (const row of rows) this.insertAudit.run(row);
      for (const arg of argRows(kept, rows)) this.insertArg.run(arg);
      return kept.length === entries.length ? sealed : withDropped(held, sealed);
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

  /** Runs one write; answers the rows it changed. */
  private run(write: StoreWrite): number {
    if (write.kind === 'outcome.insert') {
      const { row } = write;
      return this.insertOutcome.run(OUTCOME_COLUMNS.map((column) => row[column] ?? (column === 'duplicates' ? 0 : null))).changes;
    }
    const query = writeQuery(this.compiler, write);
    let statement = this.statements.get(query.sql);
    if (!statement) {
      if (this.statements.size >= STATEMENT_CACHE_LIMIT) this.statements.clear();
      statement = this.sqlite.prepare(query.sql);
      this.statements.set(query.sql, statement);
    }
    return statement.run(...(query.parameters as unknown[])).changes;
  }
}
