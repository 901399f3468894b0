import type { AuditRow } from '../store/schema.js';
import type { Store } from '../store/store.js';
import type { EventBus } from './events.js';

export interface AuditFeedOptions {
  /**
   * Backstop: while anyone follows the feed, the store is read at least this often, so a record
   * committed by another instance is seen even if its wake-up event was lost (Redis pub/sub is
   * at-most-once) or never sent (no Redis).
   */
  pollMs: number;
  /** Newest records kept in memory for followers at the head (and at most BUFFER_CHARS of payload). */
  bufferSize?: number;
  /** Rows per read of the store. */
  pageSize?: number;
  logError: (message: string) => void;
}

/** What a follower gets from `read`. */
export interface FeedRead {
  /** Records after the asked seq, contiguous and in order (possibly none). */
  rows: AuditRow[];
  /**
   * The seq that is missing while a higher one is stored. Never expected (see below); a follower
   * reports it instead of skipping it.
   */
  gap?: number;
}

/**
 * The audit trail as it grows, for streams and the webhook forwarder: every committed record,
 * in seq order, with no gap and no duplicate, whichever instance wrote it.
 *
 * Followers always read the store (never the in-memory event, which may be lost): the feed reads
 * it after every wake-up (a local commit, or an `audit` event from another instance over the
 * event bus) and every `pollMs` as a backstop, keeps the newest records in a buffer, and wakes its
 * followers. A follower behind the buffer reads the store itself.
 *
 * Why reading `seq > after` in order never skips a record committed later: seq is assigned by the
 * one writer of the chain, inside the transaction that commits it, after that transaction read
 * the head (SQLite: one writer thread; PostgreSQL: every append transaction first takes the
 * chain's transaction-scoped advisory lock, released only after its commit is visible). So record
 * N+1 cannot be written before N is committed and visible: commit order is seq order, and any
 * snapshot of the table holds a gapless prefix of the chain. Followers still check contiguity
 * and stop at a gap rather than skip it.
 */
/**
 * Most payload characters the buffer keeps, whatever `bufferSize` says: 4,096 records of an
 * agent's 900 KB arguments would have been 3.7 GB held while anyone followed the trail.
 */
export const BUFFER_CHARS = 32 * 1024 * 1024;

export class AuditFeed {
  /** Highest seq known contiguous; -1 before the first read. */
  private head = -1;
  private buffer: AuditRow[] = [];
  /** Payload characters in `buffer`. */
  private bufferChars = 0;
  private users = 0;
  private waiters = new Set<() => void>();
  private polling = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private closed = false;
  private readonly bufferSize: number;
  private readonly pageSize: number;

  constructor(
    private readonly store: Store,
    private readonly events: EventBus,
    private readonly options: AuditFeedOptions,
  ) {
    this.bufferSize = options.bufferSize ?? 4096;
    this.pageSize = options.pageSize ?? 500;
  }

  /** Follows the trail while the returned release has not been called. */
  follow(): () => void {
    this.users++;
    if (this.users === 1 && !this.closed) {
      this.unsubscribe = this.events.subscribe(['audit'], () => this.wake());
      this.timer = setInterval(() => this.wake(), this.options.pollMs);
      this.timer.unref();
      this.wake();
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.users--;
      if (this.users === 0) this.stop();
    };
  }

  /** Reads the store again soon (coalesced: one read at a time, another after it if woken meanwhile). */
  wake(): void {
    if (this.closed || this.users === 0) return;
    if (this.polling) {
      this.again = true;
      return;
    }
    this.polling = true;
    void (async () => {
      do {
        this.again = false;
        try {
          await this.poll();
        } catch (error) {
          this.options.logError(`audit feed: reading the trail failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      } while (this.again && !this.closed && this.users > 0);
      this.polling = false;
    })();
  }

  /**
   * Up to `limit` records after `after`, from the buffer when it holds them, else from the store.
   * None when `after` is at (or past) the newest record known: wait with `changed`.
   */
  async read(after: number, limit: number): Promise<FeedRead> {
    const first = this.buffer[0];
    if (first && after >= first.seq - 1 && after < this.head) {
      const start = after - first.seq + 1;
      return { rows: this.buffer.slice(start, start + limit) };
    }
    if (this.head >= 0 && after >= this.head && this.users > 0) return { rows: [] };
    return contiguous(await this.store.auditAfter(after, limit), after);
  }

  /** Resolves when new records are known, after `timeoutMs`, when the feed closes, or on `signal`. */
  changed(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.closed || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Stops following and releases every waiter. */
  close(): void {
    this.closed = true;
    this.stop();
    this.notify();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    // Nobody follows: the buffer would go stale, and `read` must not trust an old head.
    this.buffer = [];
    this.bufferChars = 0;
    this.head = -1;
  }

  private async poll(): Promise<void> {
    if (this.head < 0) {
      const newest = await this.store.newestSeq();
      if (this.users === 0) return;
      this.head = newest;
    }
    for (;;) {
      const { rows, gap } = contiguous(await this.store.auditAfter(this.head, this.pageSize), this.head);
      if (this.users === 0 || this.closed) return;
      const last = rows[rows.length - 1];
      if (last) {
        this.buffer.push(...rows);
        for (const row of rows) this.bufferChars += row.payload.length;
        // The oldest go first: past bufferSize records, then while over BUFFER_CHARS (the newest stays).
        let drop = Math.max(0, this.buffer.length - this.bufferSize);
        let dropped = charsOf(this.buffer, drop);
        while (drop < this.buffer.length - 1 && this.bufferChars - dropped > BUFFER_CHARS) dropped += (this.buffer[drop++] as AuditRow).payload.length;
        if (drop > 0) {
          this.buffer.splice(0, drop);
          this.bufferChars -= dropped;
        }
        this.head = Number(last.seq);
        this.notify();
      }
      // Only an empty page is the end: a page of large records is cut short (Store.auditAfter).
      if (gap !== undefined || !last) return;
    }
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** The rows that follow `after` without a gap; names the missing seq when a higher one follows it. */
export function contiguous(rows: readonly AuditRow[], after: number): FeedRead {
  let expected = after + 1;
  const out: AuditRow[] = [];
  for (const row of rows) {
    const seq = Number(row.seq);
    if (seq !== expected) return { rows: out, gap: expected };
    out.push(seq === row.seq ? row : { ...row, seq });
    expected++;
  }
  return { rows: out };
}

/** Payload characters of the first `count` rows. */
function charsOf(rows: readonly AuditRow[], count: number): number {
  let chars = 0;
  for (let i = 0; i < count && i < rows.length; i++) chars += (rows[i] as AuditRow).payload.length;
  return chars;
}
