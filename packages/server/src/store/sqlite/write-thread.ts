import type { Worker } from 'node:worker_threads';
import type { PreparedEntry, Sealed } from '../../audit/record.js';
import type { BatchWriter } from '../batch-writer.js';
import type { StoreWrite } from '../store.js';
import { spawnWorker } from './spawn-worker.js';
import { packEntries, type WriteReply, type WriteRequest } from './write-protocol.js';

type Request = WriteRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** When the checkpointer thread (checkpoint-worker.ts) copies the WAL into the database file, and starts it over. */
export interface CheckpointSettings {
  /** How often committed WAL pages are copied into the database file (PASSIVE: the writer never waits). */
  intervalMs: number;
  /** WAL frames past which, once all are copied, the log is started over (RESTART: the next commit waits for it). */
  restartFrames: number;
}

/**
 * Measured with bench/server/ab.ts (bench/README.md, "Runs on an Intel Xeon VM"): every 100 ms and
 * a restart past 1,000 frames (SQLite's own checkpoint size) put a restart in nearly every
 * interval at ~10,000 decisions/s, each holding a commit back 5-13 ms, and each 100 ms copy (up to
 * thousands of pages, then an fsync of the database file) slowed the commits beside it. Copying
 * every 25 ms and restarting past 8,000 frames (a WAL of ~32 MiB at most before it starts over)
 * made commits over 10 ms ~3× rarer in three launches, for the same decisions/s.
 */
export const DEFAULT_CHECKPOINTS: CheckpointSettings = { intervalMs: 25, restartFrames: 8000 };

/**
 * The store's single SQLite writer, on its own thread (write-worker.ts). better-sqlite3 is
 * synchronous: sealing a batch (canonical JSON, SHA-256) and a commit's fsync on the event-loop
 * thread would stall every request meanwhile. Here the event loop keeps deciding while a batch is
 * sealed and made durable, and the next batch grows in the meantime.
 */
export class SqliteWriteThread implements BatchWriter {
  private readonly worker: Worker;
  /** Runs the WAL checkpoints off the writer thread (checkpoint-worker.ts). */
  private readonly checkpointer: Worker;
  private readonly checkpointerExited: Promise<void>;
  private readonly exited: Promise<void>;
  private readonly pending = new Map<number, { resolve: (reply: WriteReply & { ok: true }) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private failure: Error | undefined;

  constructor(file: string, checkpoints: CheckpointSettings = DEFAULT_CHECKPOINTS) {
    this.worker = spawnWorker('write-worker', { file });
    this.checkpointer = spawnWorker('checkpoint-worker', { file, ...checkpoints });
    // Not a reason to stop writing: without it the writer's own automatic checkpoint takes over.
    this.checkpointer.on('error', (error) => console.error(`airlock: WAL checkpointer stopped: ${error.message}`));
    this.checkpointer.unref();
    this.checkpointerExited = new Promise((resolve) => this.checkpointer.once('exit', () => resolve()));
    this.worker.on('message', (reply: WriteReply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply);
      else waiter.reject(new Error(reply.message));
    });
    const fail = (error: Error): void => {
      this.failure ??= error;
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', () => {
        fail(new Error('the SQLite writer thread has stopped'));
        resolve();
      });
    });
  }

  async commit(entries: readonly PreparedEntry[]): Promise<Sealed[]> {
    // Structured clone, not a JSON string: each record's `data` is already canonical JSON, which
    // JSON.stringify would escape again here and the writer thread parse again (~3 µs per record
    // on the event loop, measured against ~1 µs for the clone). Packed flat (write-protocol.ts):
    // the clone of records as objects was the largest item of Airlock's own code in a profile.
    return (await this.send({ kind: 'commit', entries: packEntries(entries) })).sealed ?? [];
  }

  async apply(writes: readonly StoreWrite[]): Promise<void> {
    await this.send({ kind: 'apply', writes });
  }

  async ping(): Promise<void> {
    await this.send({ kind: 'ping' });
  }

  async flushIndex(): Promise<void> {
    await this.send({ kind: 'flush' });
  }

  async close(): Promise<void> {
    this.checkpointer.postMessage('close');
    await this.checkpointerExited;
    if (!this.failure) await this.send({ kind: 'close' });
    await this.exited;
  }

  private send(request: Request): Promise<WriteReply & { ok: true }> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, ...request });
    });
  }
}
