import type { Sealed } from '../../audit/record.js';
import type { StoreWrite } from '../store.js';

/** Messages to the SQLite writer thread. Audit entries travel as one JSON string per batch (cheapest to copy). */
export type WriteRequest =
  | { id: number; kind: 'commit'; entries: string }
  | { id: number; kind: 'apply'; writes: readonly StoreWrite[] }
  | { id: number; kind: 'ping' }
  | { id: number; kind: 'close' };

export type WriteReply = { id: number; ok: true; sealed?: Sealed[] } | { id: number; ok: false; message: string };
