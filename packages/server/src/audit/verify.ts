import { sha256Hex } from '@airlock/core';
import type { AuditRow } from '../store/schema.js';
import { FILTER_COLUMNS, GENESIS_HASH } from './record.js';

export type VerifyResult =
  | { ok: true; records: number; head: string | null; anchor?: AnchorFound }
  | { ok: false; records: number; seq: number; reason: string };

/** Where an anchored head hash was found: its record, and how many records were added after it. */
export interface AnchorFound {
  hash: string;
  seq: number;
  following: number;
}

/** A SHA-256 hex digest, as heads are printed. */
export const HEAD_HASH = /^[0-9a-f]{64}$/i;

/**
 * Walks the chain in seq order and names the first record that is not what was sealed:
 * an edited payload or column, a missing record (gap), a record moved to another seq, or a record
 * re-sealed with a recomputed hash (its successor no longer links to it).
 * `records` counts the records verified before the failure.
 */
export async function verifyChain(rows: AsyncIterable<AuditRow>, options: { expectHead?: string } = {}): Promise<VerifyResult> {
  let expected = 1;
  let prevHash = GENESIS_HASH;
  let count = 0;
  const anchor = options.expectHead?.toLowerCase();
  // The anchored head of an empty trail is the genesis hash.
  let anchorSeq: number | undefined = anchor === GENESIS_HASH ? 0 : undefined;
  for await (const row of rows) {
    const failure = (seq: number, reason: string): VerifyResult => ({ ok: false, records: count, seq, reason });
    if (row.seq !== expected) return failure(expected, `record ${expected} is missing (the next record is ${row.seq})`);

    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(row.payload) as Record<string, unknown>;
    } catch {
      return failure(row.seq, 'payload is not JSON');
    }
    if (payload.seq !== row.seq) return failure(row.seq, `payload was sealed as record ${String(payload.seq)} (records moved or reordered)`);
    if (sha256Hex(row.prev_hash + row.payload) !== row.hash) return failure(row.seq, 'hash does not match the payload (record edited)');
    if (payload.prev_hash !== row.prev_hash) return failure(row.seq, 'prev_hash column differs from the sealed payload');
    const atMs = typeof payload.at === 'string' ? Date.parse(payload.at) : Number.NaN;
    if (atMs !== Number(row.at)) return failure(row.seq, 'column at differs from the sealed payload');
    for (const column of FILTER_COLUMNS) {
      if (payload[column] !== row[column]) return failure(row.seq, `column ${column} differs from the sealed payload`);
    }
    if (row.prev_hash !== prevHash) {
      if (row.seq === 1) return failure(1, 'the first record does not start from the genesis hash');
      // This record is intact in itself, so its predecessor was re-sealed after this one linked to it.
      return { ok: false, records: count - 1, seq: row.seq - 1, reason: `record ${row.seq - 1} was re-sealed: record ${row.seq} links to a different hash` };
    }
    prevHash = row.hash;
    if (anchorSeq === undefined && row.hash === anchor) anchorSeq = row.seq;
    expected++;
    count++;
  }
  const head = count === 0 ? null : prevHash;
  if (anchor === undefined) return { ok: true, records: count, head };
  // A chain intact in itself but without the anchored head lost its tail (or was rewritten from
  // some record on, every hash recomputed): nothing in the file alone can show that.
  if (anchorSeq === undefined) {
    return { ok: false, records: count, seq: count + 1, reason: `anchored head ${anchor} not found: the trail was truncated or rewritten (its head is now ${head ?? 'empty'} at record ${count})` };
  }
  return { ok: true, records: count, head, anchor: { hash: anchor, seq: anchorSeq, following: count - anchorSeq } };
}

/** Reads every record in seq order, a page at a time. */
export async function* auditRows(
  read: (afterSeq: number, limit: number) => Promise<AuditRow[]>,
  pageSize = 1000,
): AsyncGenerator<AuditRow> {
  let after = 0;
  for (;;) {
    const page = await read(after, pageSize);
    yield* page;
    const last = page[page.length - 1];
    if (!last || page.length < pageSize) return;
    after = last.seq;
  }
}
