import { setImmediate } from 'node:timers/promises';
import { sha256Hex } from '@airlock/core';
import type { AuditRow } from '../store/schema.js';
import { FILTER_COLUMNS, GENESIS_HASH } from './record.js';

export type VerifyResult =
  | { ok: true; records: number; head: string | null; anchor?: AnchorFound; base?: BaseFound; archives?: ArchiveAttestation[] }
  | { ok: false; records: number; seq: number; reason: string };

/**
 * Where the verified chain started when an earlier part of it was archived: after record `seq`
 * (whose hash the first record kept links to), with `attestedBy` the seq of the `audit.archived`
 * record that names it, null when none among the records verified does (an archive file's own
 * base is attested in the file or the trail that follows it).
 */
export interface BaseFound {
  seq: number;
  hash: string;
  file: string | null;
  attestedBy: number | null;
}

/** An `audit.archived` record met on the way: which archived range's end it attests. */
export interface ArchiveAttestation {
  /** The `audit.archived` record's own seq. */
  seq: number;
  through: number;
  hash: string;
}

/** A trail's base as the store keeps it (audit_archives): the last archived record and its file. */
export interface ChainBase {
  seq: number;
  hash: string;
  file?: string | null;
}

/** What an `audit.archived` record's data holds: the archived range, its last hash and its file. */
export interface ArchivedData {
  from: number;
  through: number;
  hash: string;
  file: string;
  records: number;
}

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
export async function verifyChain(
  rows: AsyncIterable<AuditRow>,
  options: {
    expectHead?: string;
    /** Start after this archived record instead of at genesis; `rows` start after its seq. */
    base?: ChainBase;
    /**
     * Fail when no record verified attests the base (an `audit.archived` record naming it): true
     * for a server's own trail, which always holds the record of its newest archive; false for an
     * archive file, whose base may be attested further on.
     */
    requireAttestation?: boolean;
    /** An `expectHead` not found is reported as no `anchor` rather than a failure (several files verified together). */
    anchorOptional?: boolean;
  } = {},
): Promise<VerifyResult> {
  const { base } = options;
  let expected = base ? base.seq + 1 : 1;
  let prevHash = base ? base.hash : GENESIS_HASH;
  let count = 0;
  let attestedBy: number | null = null;
  const archives: ArchiveAttestation[] = [];
  const anchor = options.expectHead?.toLowerCase();
  // The anchored head of an empty trail is the genesis hash; the base's record is the last archived one.
  let anchorSeq: number | undefined = anchor === GENESIS_HASH ? 0 : base && anchor === base.hash ? base.seq : undefined;
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
      if (base && row.seq === base.seq + 1) return failure(row.seq, `the first record kept does not link to the last archived record (${base.seq})`);
      // This record is intact in itself, so its predecessor was re-sealed after this one linked to it.
      return { ok: false, records: count - 1, seq: row.seq - 1, reason: `record ${row.seq - 1} was re-sealed: record ${row.seq} links to a different hash` };
    }
    prevHash = row.hash;
    if (anchorSeq === undefined && row.hash === anchor) anchorSeq = row.seq;
    if (row.type === 'audit.archived') {
      const data = payload.data as Partial<ArchivedData> | undefined;
      if (typeof data?.through === 'number' && typeof data.hash === 'string') {
        archives.push({ seq: row.seq, through: data.through, hash: data.hash });
        if (base && attestedBy === null && data.through === base.seq && data.hash === base.hash) attestedBy = row.seq;
      }
    }
    expected++;
    count++;
  }
  const head = count === 0 && !base ? null : prevHash;
  let baseFound: BaseFound | undefined;
  if (base) {
    baseFound = { seq: base.seq, hash: base.hash, file: base.file ?? null, attestedBy };
    // The base row alone would let whoever can write the database cut the trail's start unseen.
    if (attestedBy === null && options.requireAttestation) {
      return { ok: false, records: count, seq: base.seq, reason: `records up to ${base.seq} were removed, and no audit.archived record in the trail attests it: not an archive this trail recorded` };
    }
  }
  const found = { ...(archives.length > 0 ? { archives } : {}), ...(baseFound ? { base: baseFound } : {}) };
  if (anchor === undefined) return { ok: true, records: count, head, ...found };
  // A chain intact in itself but without the anchored head lost its tail (or was rewritten from
  // some record on, every hash recomputed): nothing in the file alone can show that.
  const last = expected - 1;
  if (anchorSeq === undefined && options.anchorOptional) return { ok: true, records: count, head, ...found };
  if (anchorSeq === undefined) {
    const archived = base ? `, or it is in the archived records up to ${base.seq}${base.file ? ` (${base.file})` : ''}: verify with them` : '';
    return { ok: false, records: count, seq: last + 1, reason: `anchored head ${anchor} not found: the trail was truncated or rewritten${archived} (its head is now ${head ?? 'empty'} at record ${last})` };
  }
  return { ok: true, records: count, head, anchor: { hash: anchor, seq: anchorSeq, following: last - anchorSeq }, ...found };
}

/**
 * Reads every record after `from` (0: all) in seq order, a page at a time, letting the event loop
 * serve others between pages: SQLite reads resolve at once, so a walk of the whole trail (verify,
 * export) was one run of the loop (100,000 records: 1.1 s).
 */
export async function* auditRows(
  read: (afterSeq: number, limit: number) => Promise<AuditRow[]>,
  pageSize = 1000,
  from = 0,
): AsyncGenerator<AuditRow> {
  let after = from;
  for (;;) {
    const page = await read(after, pageSize);
    yield* page;
    const last = page[page.length - 1];
    // Only an empty page is the end: a page of large records holds fewer than `pageSize` (Store.auditAfter).
    if (!last) return;
    after = last.seq;
    await setImmediate();
  }
}

/**
 * Verifies a trail from its base, again when an archive moved the base meanwhile: the base and the
 * records are read one after the other, and an archive that deleted records in between would
 * otherwise read as records missing from the trail (a false alarm to anyone polling verify).
 * A failure that stands with the same base before and after is reported.
 */
export async function verifyFromBase<B extends { seq: number } | undefined>(readBase: () => Promise<B>, verify: (base: B) => Promise<VerifyResult>): Promise<VerifyResult> {
  for (let attempt = 0; ; attempt++) {
    const base = await readBase();
    const result = await verify(base);
    if (result.ok || attempt >= 3) return result;
    const now = await readBase();
    if ((now?.seq ?? 0) === (base?.seq ?? 0)) return result;
  }
}
