import type { AuditRow } from '../store/schema.js';
import { needsScanBound, type AuditFilter, type Store } from '../store/store.js';
import type { AuditRecordFields } from '../audit/record.js';
import { auditRows, verifyChain, verifyFromBase, type VerifyResult } from '../audit/verify.js';
import { causeOf, type RefusalCause } from './refusal-cause.js';

/** An audit record as the API returns it: the fields its hash is made of, and the hash. */
export interface AuditRecordView extends AuditRecordFields {
  hash: string;
}

/** A record as queries return it: a decision also says what decided it and where its approval stands. */
export interface AuditRecordQueryView extends AuditRecordView {
  /** Decision records: what decided the call (for a block: why it was refused). */
  cause?: RefusalCause;
  /** Decision records that opened an approval: its id and current status. */
  approval?: { id: string; status: string };
}

/**
 * The most records one page of an audit search examines when no single index serves its filter
 * (store.ts `needsScanBound`): ~0.1-0.15 s of the reader thread (2-3 µs a record, measured on a
 * trail of 300,000), so that a search for something rare over millions of records answers in
 * steps, each bounded, instead of occupying the reader for seconds.
 */
export const AUDIT_SCAN_LIMIT = 50_000;

export class AuditService {
  constructor(
    private readonly store: Store,
    private readonly scanLimit: number = AUDIT_SCAN_LIMIT,
  ) {}

  /**
   * Newest first; `cursor` is the `nextCursor` of the previous page. A page whose filter no single
   * index serves examines at most `scanLimit` records (AUDIT_SCAN_LIMIT unless configured): it may then hold fewer than `limit`
   * records and still have a `nextCursor` (where its search stopped), and `searchedTo` says so.
   */
  async query(filter: AuditFilter, cursor: number | undefined, limit: number): Promise<{ records: AuditRecordQueryView[]; nextCursor: string | null; searchedTo?: number }> {
    const { rows, resumeBefore, truncated } = await this.store.searchAudit(filter, { ...(cursor === undefined ? {} : { beforeSeq: cursor }), limit, scanLimit: this.scanLimit });
    const last = rows[rows.length - 1];
    const records = await this.withOutcomes(rows.map(recordView));
    // Full, or cut by its size (about 8 MiB of records a page): more may follow its last record.
    if ((rows.length === limit || truncated) && last) return { records, nextCursor: String(last.seq) };
    return resumeBefore === undefined ? { records, nextCursor: null } : { records, nextCursor: String(resumeBefore), searchedTo: resumeBefore };
  }

  /** Adds each decision's cause and its approval's status (one primary-key lookup for the page). */
  private async withOutcomes(records: AuditRecordView[]): Promise<AuditRecordQueryView[]> {
    const approvalOf = (record: AuditRecordView): string | undefined => {
      const id = record.type === 'decision' ? (record.data as { approval?: unknown } | null)?.approval : undefined;
      return typeof id === 'string' ? id : undefined;
    };
    const ids = records.flatMap((record) => approvalOf(record) ?? []);
    const statuses = new Map((await this.store.approvalStatuses(ids)).map((row) => [row.id, row.status]));
    return records.map((record) => {
      if (record.type !== 'decision') return record;
      const decision = (record.data as { decision?: { decidedBy?: string; error?: { code?: string } } } | null)?.decision;
      const id = approvalOf(record);
      const status = id === undefined ? undefined : statuses.get(id);
      return { ...record, cause: causeOf(decision), ...(id !== undefined && status !== undefined ? { approval: { id, status } } : {}) };
    });
  }

  /** Every matching record, oldest first, read a page at a time (for streaming export). */
  async *export(filter: AuditFilter): AsyncGenerator<AuditRecordView> {
    if (!needsScanBound(filter)) {
      for await (const row of auditRows((after, limit) => this.store.auditAfter(after, limit, filter))) yield recordView(row);
      return;
    }
    // A filter no single index serves: each query reads at most `scanLimit` records (a stretch of
    // seqs), as a search page does, so that an export of something rare over a long trail is many
    // short reads of the reader thread instead of one that holds it (and every page behind it)
    // for seconds. Up to the head as it is when each stretch starts.
    let after = (await this.store.auditBase())?.seq ?? 0;
    for (;;) {
      const head = await this.store.newestSeq();
      if (after >= head) return;
      const through = Math.min(head, after + this.scanLimit);
      for await (const row of auditRows((from, limit) => this.store.auditAfter(from, limit, filter, through), 1000, after)) yield recordView(row);
      after = through;
    }
  }

  /** The trail from its base (genesis, or the last archived record, which must be attested). */
  async verify(options: { expectHead?: string } = {}): Promise<VerifyResult> {
    return verifyFromBase(() => this.store.auditBase(), async (base) => {
      const result = await verifyChain(auditRows((after, limit) => this.store.auditAfter(after, limit), 1000, base?.seq ?? 0), {
        ...options,
        ...(base ? { base: { seq: base.seq, hash: base.hash, file: base.file } } : {}),
        requireAttestation: true,
      });
      // The attestations met are for verifying several files together; the API answers the base.
      if (result.ok) delete result.archives;
      return result;
    });
  }
}

export function recordView(row: AuditRow): AuditRecordView {
  const payload = JSON.parse(row.payload) as { at: string; data: unknown };
  return {
    seq: Number(row.seq),
    at: payload.at,
    type: row.type,
    actor: row.actor,
    agent: row.agent,
    tool: row.tool,
    effect: row.effect,
    rule: row.rule,
    data: payload.data,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
