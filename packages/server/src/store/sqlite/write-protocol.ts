import type { PreparedEntry, Sealed } from '../../audit/record.js';
import type { StoreWrite } from '../store.js';

/**
 * Messages to the SQLite writer thread, copied by structured clone. Audit entries travel as they
 * are: their records' `data` is a canonical JSON string already, copied as bytes.
 */
export type WriteRequest =
  | { id: number; kind: 'commit'; entries: readonly PreparedEntry[] }
  | { id: number; kind: 'apply'; writes: readonly StoreWrite[] }
  | { id: number; kind: 'ping' }
  | { id: number; kind: 'close' };

export type WriteReply = { id: number; ok: true; sealed?: Sealed[] } | { id: number; ok: false; message: string };
