/** Messages between the event loop and the SQLite reader thread (read-thread.ts, read-worker.ts). */

export type ReadRequest = { id: number; kind: 'query'; sql: string; parameters: readonly unknown[] } | { id: number; kind: 'close' };

export type ReadReply =
  | { id: number; ok: true; rows: Record<string, unknown>[]; changes?: number }
  | { id: number; ok: false; message: string; code?: string };
