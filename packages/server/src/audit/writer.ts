import type { Store } from '../store/store.js';
import { AirlockError } from '../errors.js';
import { prepareRecord, type AuditEntry, type PreparedEntry, type Sealed } from './record.js';

export type { AuditEntry, Sealed } from './record.js';

interface Pending {
  entries: readonly PreparedEntry[];
  resolve: (sealed: Sealed[]) => void;
  reject: (error: Error) => void;
}

export interface AuditWriterOptions {
  /** Most records per transaction; the rest wait for the next batch. */
  maxBatch?: number;
  /** Batches handed to the store before the first of them is durable. */
  maxInFlight?: number;
}

/**
 * Group commit for the audit trail. Appends queue up during one event-loop turn and go to the
 * store as ONE batch (one transaction, one fsync) at the next `setImmediate`; the store seals them
 * onto the chain. Every caller's promise settles only when its batch is durable, or rejects with
 * `store_unavailable` if the batch failed. The next batch is handed over while one is still
 * committing, so the store never waits for the event loop.
 */
export class AuditWriter {
  private queue: Pending[] = [];
  private scheduled = false;
  private inFlight = 0;
  private idle: (() => void)[] = [];
  private readonly committed: ((last: Sealed) => void)[] = [];
  private readonly maxBatch: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly store: Store,
    options: AuditWriterOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 512;
    this.maxInFlight = options.maxInFlight ?? 2;
  }

  /**
   * Appends records that must land in the same transaction (e.g. a decision and its approval).
   * Their data is put in canonical form here, so a record that cannot be (a non-finite number)
   * fails alone.
   */
  append(entries: readonly AuditEntry[]): Promise<Sealed[]> {
    return new Promise<Sealed[]>((resolve, reject) => {
      const prepared = entries.map((entry) => ({ record: prepareRecord(entry.record), writes: entry.writes ?? [], ...(entry.claim ? { claim: entry.claim } : {}) }));
      this.queue.push({ entries: prepared, resolve, reject });
      this.schedule();
    });
  }

  /** Called after every committed batch with its last record (audit streams wake up on it). */
  onCommitted(listener: (last: Sealed) => void): void {
    this.committed.push(listener);
  }

  /** Resolves once everything queued so far is committed (or has failed). */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        this.idle.push(resolve);
        this.schedule();
      });
    }
  }

  private schedule(): void {
    if (this.scheduled || this.queue.length === 0 || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.startBatch();
    });
  }

  private startBatch(): void {
    if (this.queue.length === 0 || this.inFlight >= this.maxInFlight) return;
    const batch = this.take();
    this.inFlight++;
    this.store.commit(batch.flatMap((pending) => pending.entries)).then(
      (sealed) => {
        let offset = 0;
        for (const pending of batch) {
          pending.resolve(sealed.slice(offset, offset + pending.entries.length));
          offset += pending.entries.length;
        }
        const last = sealed.findLast((one) => one.dropped !== true);
        if (last) {
          for (const listener of this.committed) {
            try {
              listener(last);
            } catch {
              // A listener only says "look again"; it never fails a committed batch.
            }
          }
        }
        this.settled();
      },
      (error: unknown) => {
        const failure = new AirlockError('store_unavailable', `audit store unavailable: ${error instanceof Error ? error.message : String(error)}`);
        for (const pending of batch) pending.reject(failure);
        this.settled();
      },
    );
    this.schedule();
  }

  private settled(): void {
    this.inFlight--;
    if (this.inFlight === 0 && this.queue.length === 0) for (const resolve of this.idle.splice(0)) resolve();
    this.schedule();
  }

  private take(): Pending[] {
    let count = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || count + (this.queue[n] as Pending).entries.length <= this.maxBatch)) {
      count += (this.queue[n] as Pending).entries.length;
      n++;
    }
    return this.queue.splice(0, n);
  }
}
