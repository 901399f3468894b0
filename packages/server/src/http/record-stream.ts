import { once } from 'node:events';
import type { FastifyReply } from 'fastify';
import { recordView } from '../services/audit.js';
import type { AuditRow } from '../store/schema.js';
import { admitStream } from './sse.js';

/** Records are written in chunks of about this many characters, each waiting for the reader to take the last. */
const CHUNK_CHARS = 64 * 1024;
/** A reader that takes nothing for this long while records wait is cut off (it resumes with `after`). */
export const STALLED_READER_MS = 60_000;

export interface RecordStream {
  readonly closed: boolean;
  /** Writes records in order; resolves once the socket takes more (backpressure), or the stream closed. */
  records(rows: readonly AuditRow[]): Promise<void>;
  /** Writes one error (a line `{"error":…}` or an `error` event) and ends the stream. */
  error(code: string, message: string, details?: Record<string, unknown>): void;
  /** Runs once when the client goes away or the server ends the stream. */
  onClose(cleanup: () => void): void;
  /** Runs at every heartbeat; the stream ends if it answers false (e.g. its session ended). */
  keepWhile(check: () => Promise<boolean>): void;
  end(): void;
}

/**
 * A long-lived answer of audit records: NDJSON (one record per line; an empty line as heartbeat)
 * or Server-Sent Events (`event: record`, `id: <seq>` so `Last-Event-ID` resumes; a comment as
 * heartbeat). Unlike the live-event streams it honours backpressure: a slow reader slows its own
 * stream down, never the server's memory.
 */
export function openRecordStream(reply: FastifyReply, format: 'ndjson' | 'sse', heartbeatMs: number, open: Set<() => void>, caller: string): RecordStream {
  const release = admitStream(open, caller);
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': format === 'sse' ? 'text/event-stream; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  if (format === 'sse') raw.write('retry: 2000\n\n');
  else raw.flushHeaders();
  const cleanups: (() => void)[] = [];
  const checks: (() => Promise<boolean>)[] = [];
  let closed = false;
  const heartbeat = setInterval(() => {
    // Skipped while the socket is full: the reader is busy with records anyway.
    if (!raw.writableNeedDrain) raw.write(format === 'sse' ? ': heartbeat\n\n' : '\n');
    for (const check of checks) {
      check().then(
        (keep) => {
          if (!keep) end();
        },
        () => end(),
      );
    }
  }, heartbeatMs);
  const close = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    open.delete(end);
    release();
    for (const cleanup of cleanups) cleanup();
  };
  const end = (): void => {
    close();
    raw.end();
  };
  open.add(end);
  raw.on('close', close);
  // The client may have left while the request was authenticated (an async hook): 'close' fired
  // before it was listened to, and the stream would hold its slots (and its caller's) for good.
  if (raw.destroyed || raw.socket === null || raw.socket.destroyed) close();
  const encode = (row: AuditRow): string => (format === 'sse' ? `id: ${row.seq}\nevent: record\ndata: ${recordJson(row)}\n\n` : `${recordJson(row)}\n`);
  return {
    get closed() {
      return closed;
    },
    async records(rows) {
      // In chunks, each written once the reader took the one before: a page of large records is
      // never encoded whole (500 records of 1 MB were, per follower: 100 stalled followers, 2.8 GB).
      let chunk = '';
      for (let i = 0; i < rows.length && !closed; i++) {
        chunk += encode(rows[i] as AuditRow);
        if (chunk.length < CHUNK_CHARS && i < rows.length - 1) continue;
        const more = raw.write(chunk);
        chunk = '';
        if (more) continue;
        const settled = new AbortController();
        const stalled = new Promise<'stalled'>((resolve) => {
          const timer = setTimeout(resolve, STALLED_READER_MS, 'stalled');
          settled.signal.addEventListener('abort', () => clearTimeout(timer));
        });
        const outcome = await Promise.race([once(raw, 'drain', { signal: settled.signal }), once(raw, 'close', { signal: settled.signal }), stalled]).catch(() => undefined);
        settled.abort();
        if (outcome === 'stalled') {
          close();
          raw.destroy();
        }
      }
    },
    error(code, message, details) {
      if (!closed) {
        const body = JSON.stringify({ error: { code, message, ...details } });
        raw.write(format === 'sse' ? `event: error\ndata: ${body}\n\n` : `${body}\n`);
      }
      end();
    },
    onClose(cleanup) {
      // Already closed (the client left before the stream opened): clean up at once.
      if (closed) cleanup();
      else cleanups.push(cleanup);
    },
    keepWhile(check) {
      checks.push(check);
    },
    end,
  };
}

/** A row's JSON as streamed, made once per row: followers at the head share the feed's row objects. */
const encoded = new WeakMap<AuditRow, string>();
function recordJson(row: AuditRow): string {
  let json = encoded.get(row);
  if (json === undefined) {
    json = JSON.stringify(recordView(row));
    encoded.set(row, json);
  }
  return json;
}
