import type { Worker } from 'node:worker_threads';
import {
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
} from 'kysely';
import type { ReadReply, ReadRequest } from './read-protocol.js';
import { spawnWorker } from './spawn-worker.js';

type Request = ReadRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** A query the reader thread refused or failed: SQLite's message, and its code (`SQLITE_…`) when it has one. */
export class SqliteReadError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'SqliteReadError';
  }
}

/**
 * The store's reader thread (read-worker.ts). better-sqlite3 is synchronous: a search that walks
 * 300,000 records took 0.5-0.9 s, during which the event loop answered nothing — no decision, no
 * health check. Queries whose cost grows with the data run here instead; the event loop only
 * posts the query and receives the rows. The thread holds no state but its connection, so when it
 * dies (its queries fail with the reason) the next query starts a new one.
 */
export class SqliteReadThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve: (reply: ReadReply & { ok: true }) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private closed = false;
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {}

  async query(text: string, parameters: readonly unknown[]): Promise<{ rows: Record<string, unknown>[]; changes?: number }> {
    const reply = await this.send({ kind: 'query', sql: text, parameters });
    return reply.changes === undefined ? { rows: reply.rows } : { rows: reply.rows, changes: reply.changes };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    if (worker) worker.postMessage({ id: 0, kind: 'close' } satisfies ReadRequest);
    await this.exited;
  }

  /** Queries in flight or waiting (for tests and metrics). */
  get inFlight(): number {
    return this.pending.size;
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = spawnWorker('read-worker', { file: this.file });
    this.worker = worker;
    worker.on('message', (reply: ReadReply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply);
      else waiter.reject(new SqliteReadError(reply.message, reply.code));
    });
    let failure: Error | undefined;
    worker.on('error', (error) => {
      failure = error;
    });
    this.exited = new Promise((resolve) => {
      worker.once('exit', (exitCode) => {
        // Everything in flight on this thread is lost with it; the next query starts a new thread.
        if (this.worker === worker) this.worker = undefined;
        const reason = failure ?? new Error(`the SQLite reader thread stopped (exit code ${exitCode})`);
        for (const waiter of this.pending.values()) waiter.reject(reason);
        this.pending.clear();
        resolve();
      });
    });
    return worker;
  }

  private send(request: Request): Promise<ReadReply & { ok: true }> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    const worker = this.started();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, ...request });
    });
  }
}

/**
 * Kysely over the reader thread: SQLite's SQL dialect, every query posted to the thread. No
 * transactions: the thread only reads, one statement at a time, each seeing the latest commit.
 */
export class SqliteReadThreadDialect implements Dialect {
  constructor(private readonly reader: SqliteReadThread) {}

  createAdapter(): SqliteAdapter {
    return new SqliteAdapter();
  }

  createDriver(): Driver {
    return new ReadThreadDriver(this.reader);
  }

  createQueryCompiler(): SqliteQueryCompiler {
    return new SqliteQueryCompiler();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

class ReadThreadDriver implements Driver {
  private readonly connection: DatabaseConnection;

  constructor(private readonly reader: SqliteReadThread) {
    this.connection = {
      executeQuery: async <R>(compiled: CompiledQuery): Promise<QueryResult<R>> => {
        const result = await reader.query(compiled.sql, compiled.parameters);
        return {
          rows: result.rows as R[],
          ...(result.changes === undefined ? {} : { numAffectedRows: BigInt(result.changes) }),
        };
      },
      streamQuery: () => {
        throw new Error('the SQLite reader thread does not stream: read in pages');
      },
    };
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return this.connection;
  }

  async beginTransaction(): Promise<void> {
    throw new Error('the SQLite reader thread runs no transactions: writes go to the writer thread');
  }

  async commitTransaction(): Promise<void> {
    throw new Error('the SQLite reader thread runs no transactions');
  }

  async rollbackTransaction(): Promise<void> {
    throw new Error('the SQLite reader thread runs no transactions');
  }

  async releaseConnection(): Promise<void> {}

  async destroy(): Promise<void> {
    await this.reader.close();
  }
}
