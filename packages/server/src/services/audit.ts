import type { AuditRow } from '../store/schema.js';
import type { AuditFilter, Store } from '../store/store.js';
import { auditRows, verifyChain, type VerifyResult } from '../audit/verify.js';

/** An audit record as the API returns it. */
export interface AuditRecordView {
  seq: number;
  at: string;
  type: string;
  actor: string;
  agent: string | null;
  tool: string | null;
  effect: string | null;
  rule: string | null;
  data: unknown;
  prevHash: string;
  hash: string;
}

export class AuditService {
  constructor(private readonly store: Store) {}

  /** Newest first; `cursor` is the `nextCursor` of the previous page. */
  async query(filter: AuditFilter, cursor: number | undefined, limit: number): Promise<{ records: AuditRecordView[]; nextCursor: string | null }> {
    const rows = await this.store.queryAudit(filter, { ...(cursor === undefined ? {} : { beforeSeq: cursor }), limit });
    const last = rows[rows.length - 1];
    return { records: rows.map(recordView), nextCursor: rows.length === limit && last ? String(last.seq) : null };
  }

  /** Every matching record, oldest first, read a page at a time (for streaming export). */
  async *export(filter: AuditFilter): AsyncGenerator<AuditRecordView> {
    for await (const row of auditRows((after, limit) => this.store.auditAfter(after, limit, filter))) yield recordView(row);
  }

  async verify(options: { expectHead?: string } = {}): Promise<VerifyResult> {
    return verifyChain(auditRows((after, limit) => this.store.auditAfter(after, limit)), options);
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
