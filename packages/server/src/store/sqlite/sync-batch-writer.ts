import type Sqlite from 'better-sqlite3';
import { DummyDriver, Kysely, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler } from 'kysely';
import { payloadArgLeaves, type ArgLeaf } from '../../audit/arg-index.js';
import { decisionCountRows } from '../../audit/decision-counts.js';
import { GENESIS_HASH, sealBatch, withDropped, type PreparedEntry, type Sealed } from '../../audit/record.js';
import type { AuditRow, Database, OutcomeRow } from '../schema.js';
import { writeQuery } from '../batch-writer.js';
import type { StoreWrite } from '../store.js';

/** Distinct statement texts kept prepared; state changes have a dozen shapes, so this never fills. */
const STATEMENT_CACHE_LIMIT = 256;
/** Decision records indexed per index transaction: a commit that arrives meanwhile waits for one at most. */
export const INDEX_CHUNK = 128;
/** How long fewer than half a chunk of records wait for their index rows when no more come. */
export const INDEX_IDLE_MS = 20;
/** Records read per page when the index catches up from its watermark at start. */
const CATCH_UP_PAGE = 1000;
/** The watermark row of the argument index (migration 017). */
const ARG_INDEX = 'audit_args';
/** audit_args rows per INSERT statement of the index (4 parameters each, far below SQLite's 32,766). */
const ARG_ROWS_PER_INSERT = 64;
/** Parameters of one audit_args row: seq, path, text_value, num_value. */
const ARG_FIELDS = 4;
/** The audit table's columns, in the order of the prepared insert. */
const AUDIT_COLUMNS = ['seq', 'at', 'type', 'actor', 'agent', 'tool', 'effect', 'rule', 'payload', 'prev_hash', 'hash'] as const satisfies readonly (keyof AuditRow)[];

/** A committed decision record whose argument fields are not indexed yet. */
interface Unindexed {
  seq: number;
  leaves: readonly ArgLeaf[];
}

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
  private readonly insertAudit: Sqlite.Statement<unknown[]>;
  /** `audit_args` inserts of 1 to ARG_ROWS_PER_INSERT rows, by row count (argInsert). */
  private readonly insertArgs = new Map<number, Sqlite.Statement<unknown[]>>();
  /**
   * `outcome.insert`, the one write a batch holds hundreds of (a batch of reported outcomes):
   * prepared once, as the audit insert is, instead of built and compiled by Kysely per row, which
   * cost ~0.1-0.2 ms a row here and held the decides committed behind the batch (bench:sdk p99).
   */
  private readonly insertOutcome: Sqlite.Statement<unknown[]>;
  /** Adds to a minute's decision count (migration 019), in the append transaction. */
  private readonly addCount: Sqlite.Statement<unknown[]>;
  private readonly commitTx: Sqlite.Transaction<(entries: readonly PreparedEntry[]) => { sealed: Sealed[]; unindexed: Unindexed[] }>;
  private readonly applyTx: Sqlite.Transaction<(writes: readonly StoreWrite[]) => void>;
  private readonly indexTx: Sqlite.Transaction<(records: readonly Unindexed[], watermark: number) => void>;
  private readonly setWatermark: Sqlite.Statement<[number, string]>;
  /**
   * Committed decision records waiting for their `audit_args` rows, in seq order. The index is
   * written after the commit (docs/search.md "When a record is searchable"): its rows cost the
   * append transaction as much as the record itself (three b-trees per field, one of them at a
   * random place, each a page written to the WAL and fsync'd before the answer), and nothing
   * about a decision depends on them. A search with argument filters asks for them first (flush).
   */
  private readonly unindexed: Unindexed[] = [];
  /** The newest committed seq: the watermark once nothing waits. */
  private committedSeq: number;

  constructor(private readonly sqlite: Sqlite.Database) {
    this.head = sqlite.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1');
    // Positional parameters: better-sqlite3 binds an array without looking up a name per column.
    this.insertAudit = sqlite.prepare(`INSERT INTO audit (${AUDIT_COLUMNS.join(', ')}) VALUES (${AUDIT_COLUMNS.map(() => '?').join(', ')})`);
    this.setWatermark = sqlite.prepare('UPDATE search_index SET seq = ? WHERE name = ?');
    this.insertOutcome = sqlite.prepare(
      `INSERT INTO outcomes (${OUTCOME_COLUMNS.join(', ')}) VALUES (${OUTCOME_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (decision_id) DO NOTHING`,
    );
    this.addCount = sqlite.prepare(
      'INSERT INTO decision_counts (minute, agent, tool, effect, rule, decided_by, code, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ' +
        'ON CONFLICT (minute, agent, tool, effect, rule, decided_by, code) DO UPDATE SET count = count + excluded.count',
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
      const unindexed: Unindexed[] = [];
      rows.forEach((row, i) => {
        // In AUDIT_COLUMNS order.
        this.insertAudit.run(row.seq, row.at, row.type, row.actor, row.agent, row.tool, row.effect, row.rule, row.payload, row.prev_hash, row.hash);
        const leaves = kept[i]?.record.args;
        if (leaves !== undefined && leaves.length > 0) unindexed.push({ seq: row.seq, leaves });
      });
      for (const c of decisionCountRows(kept)) this.addCount.run(c.minute, c.agent, c.tool, c.effect, c.rule, c.decided_by, c.code, c.count);
      return { sealed: kept.length === entries.length ? sealed : withDropped(held, sealed), unindexed };
    });
    this.applyTx = sqlite.transaction((writes: readonly StoreWrite[]) => {
      for (const write of writes) this.run(write);
    });
    this.indexTx = sqlite.transaction((records: readonly Unindexed[], watermark: number) => {
      // Many rows per statement: a decision has a few fields, and one statement run per row
      // (parameters bound, the call into SQLite and back) cost about as much as its b-tree inserts.
      const values: unknown[] = [];
      for (const { seq, leaves } of records) {
        for (const leaf of leaves) {
          values.push(seq, leaf.path, leaf.text, leaf.num);
          if (values.length === ARG_ROWS_PER_INSERT * ARG_FIELDS) this.argInsert(ARG_ROWS_PER_INSERT).run(values.splice(0));
        }
      }
      if (values.length > 0) this.argInsert(values.length / ARG_FIELDS).run(values);
      this.setWatermark.run(watermark, ARG_INDEX);
    });
    this.committedSeq = Number(this.head.get()?.seq ?? 0);
    this.catchUp();
  }

  commit(entries: readonly PreparedEntry[]): Sealed[] {
    if (entries.length === 0) return [];
    // IMMEDIATE: take the write lock at BEGIN, so a concurrent writer (another process on the
    // same file) makes this wait for busy_timeout instead of failing at the first insert.
    const { sealed, unindexed } = this.commitTx.immediate(entries);
    // Only after the commit: a rolled-back batch leaves nothing to index.
    for (const record of unindexed) this.unindexed.push(record);
    for (const answer of sealed) if (!answer.dropped && answer.seq > this.committedSeq) this.committedSeq = answer.seq;
    return sealed;
  }

  /** Committed decision records whose argument fields are not indexed yet. */
  get pendingIndex(): number {
    return this.unindexed.length;
  }

  /**
   * Indexes up to `max` waiting records in one transaction and moves the watermark past them
   * (to the newest committed seq when none is left waiting); answers how many still wait. The
   * transaction is synchronous=NORMAL: the index is derived, so a power loss may take it back
   * (the watermark with it, in the same transaction, and the rows are rebuilt at the next start),
   * and the next decision commit (FULL) fsyncs the WAL these frames sit in anyway.
   */
  indexPending(max: number = Number.POSITIVE_INFINITY): number {
    if (this.unindexed.length === 0) return 0;
    const count = Math.min(max, this.unindexed.length);
    const records = this.unindexed.slice(0, count);
    const watermark = count === this.unindexed.length ? this.committedSeq : (records[count - 1] as Unindexed).seq;
    this.sqlite.pragma('synchronous = NORMAL');
    try {
      this.indexTx.immediate(records, watermark);
    } finally {
      this.sqlite.pragma('synchronous = FULL');
    }
    this.unindexed.splice(0, count);
    return this.unindexed.length;
  }

  /**
   * Queues the decision records past the watermark (committed before a crash, or by a writer
   * that stopped before it indexed them), read from their stored payloads.
   */
  private catchUp(): void {
    const state = this.sqlite.prepare<[string], { seq: number }>('SELECT seq FROM search_index WHERE name = ?').get(ARG_INDEX);
    let after = Number(state?.seq ?? 0);
    const page = this.sqlite.prepare<[number, number], { seq: number; payload: string }>(
      "SELECT seq, payload FROM audit WHERE seq > ? AND type = 'decision' ORDER BY seq LIMIT ?",
    );
    for (;;) {
      const records = page.all(after, CATCH_UP_PAGE);
      for (const record of records) {
        const leaves = payloadArgLeaves(record.payload);
        if (leaves.length > 0) this.unindexed.push({ seq: Number(record.seq), leaves });
      }
      const last = records[records.length - 1];
      if (last === undefined || records.length < CATCH_UP_PAGE) break;
      after = Number(last.seq);
    }
  }

  apply(writes: readonly StoreWrite[]): void {
    this.applyTx.immediate(writes);
  }

  /** The prepared insert of `rows` audit_args rows (at most ARG_ROWS_PER_INSERT distinct statements). */
  private argInsert(rows: number): Sqlite.Statement<unknown[]> {
    let statement = this.insertArgs.get(rows);
    if (!statement) {
      // OR IGNORE: a catch-up after a crash may meet rows an index transaction wrote before it.
      statement = this.sqlite.prepare(`INSERT OR IGNORE INTO audit_args (seq, path, text_value, num_value) VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?)').join(', ')}`);
      this.insertArgs.set(rows, statement);
    }
    return statement;
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
