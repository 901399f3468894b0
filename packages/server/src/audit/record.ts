import { canonicalJson, sha256Hex } from '@airlock/core';
import type { AuditArgsRow, AuditRow } from '../store/schema.js';
import { argLeaves, type ArgLeaf } from './arg-index.js';
import type { StoreWrite } from '../store/store.js';

/** Every type of audit record (the dashboard's type filter lists them: GET /v1/audit/types). */
export const AUDIT_TYPES = [
  'decision',
  'approval.created',
  'approval.vote',
  'approval.approved',
  'approval.denied',
  'approval.escalated',
  'approval.timed_out',
  'approval.expired',
  'approval.redeemed',
  'call.started',
  'call.refused',
  'call.executed',
  'call.failed',
  'policy.uploaded',
  'policy.activated',
  'policy.shadow_started',
  'policy.shadow_stopped',
  'shadow.flip',
  'anomaly.flagged',
  'pause.created',
  'pause.applied',
  'pause.resumed',
  'agent.quarantined',
  'auth.login',
  'auth.login_failed',
  'auth.logout',
  'key.created',
  'key.revoked',
  'token.created',
  'token.revoked',
  'agent.created',
  'user.created',
  'user.groups_changed',
  'auth.sso_failed',
  'user.sso_login',
  'key.rotated',
  'user.role_changed',
  'user.disabled',
  'user.enabled',
  'audit.archived',
] as const;

export type AuditType = (typeof AUDIT_TYPES)[number];

/** What a service records; the writer adds seq, prev_hash and hash. */
export interface AuditInput {
  type: AuditType;
  /** Epoch milliseconds (an integer). */
  at: number;
  /** `agent:<id>`, `user:<username>` or `system`. */
  actor: string;
  agent?: string | null;
  tool?: string | null;
  effect?: string | null;
  rule?: string | null;
  data: Record<string, unknown>;
}

/** prev_hash of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/** The columns that duplicate payload fields so they can be filtered; verification checks they agree. */
export const FILTER_COLUMNS = ['type', 'actor', 'agent', 'tool', 'effect', 'rule'] as const;

/**
 * A record ready to be sealed: its `data` already in canonical JSON. Canonicalising is most of the
 * cost of sealing and does not depend on the chain, so it happens when the record is appended
 * (on the event loop, spread over the requests); the writer only adds seq and prev_hash.
 */
export interface PreparedRecord {
  type: AuditType;
  at: number;
  actor: string;
  agent: string | null;
  tool: string | null;
  effect: string | null;
  rule: string | null;
  /** canonicalJson(input.data) */
  data: string;
  /** Decision records: the call's indexed argument fields (audit_args rows, arg-index.ts). */
  args?: ArgLeaf[];
  /** Decision records: the decision's `decidedBy` and `error.code` ('' for none), as counted (decision-counts.ts). */
  decidedBy?: string;
  code?: string;
}

export function prepareRecord(input: AuditInput): PreparedRecord {
  return {
    type: input.type,
    at: input.at,
    actor: input.actor,
    agent: input.agent ?? null,
    tool: input.tool ?? null,
    effect: input.effect ?? null,
    rule: input.rule ?? null,
    data: canonicalJson(input.data),
    ...(input.type === 'decision' ? decisionFields(input.data) : {}),
  };
}

function decisionFields(data: Record<string, unknown>): Pick<PreparedRecord, 'args' | 'decidedBy' | 'code'> {
  const decision = data.decision as { decidedBy?: unknown; error?: { code?: unknown } } | undefined;
  const decidedBy = decision?.decidedBy;
  const code = decision?.error?.code;
  return {
    args: argLeaves((data.request as { args?: unknown } | undefined)?.args),
    decidedBy: typeof decidedBy === 'string' ? decidedBy : '',
    code: typeof code === 'string' ? code : '',
  };
}

/**
 * Seals a record into the chain: payload = canonical JSON of the record without its hash, i.e.
 * `{actor, agent, at, data, effect, prev_hash, rule, seq, tool, type}` with sorted keys (written
 * out here, `data` spliced in already canonical), and hash = sha256(prev_hash + payload).
 */
export function sealRecord(record: PreparedRecord, seq: number, prevHash: string): AuditRow {
  const at = new Date(record.at).toISOString();
  const payload =
    `{"actor":${JSON.stringify(record.actor)},"agent":${JSON.stringify(record.agent)},"at":${JSON.stringify(at)},` +
    `"data":${record.data},"effect":${JSON.stringify(record.effect)},"prev_hash":${JSON.stringify(prevHash)},` +
    `"rule":${JSON.stringify(record.rule)},"seq":${JSON.stringify(seq)},"tool":${JSON.stringify(record.tool)},"type":${JSON.stringify(record.type)}}`;
  return {
    seq,
    at: record.at,
    type: record.type,
    actor: record.actor,
    agent: record.agent,
    tool: record.tool,
    effect: record.effect,
    rule: record.rule,
    payload,
    prev_hash: prevHash,
    hash: sha256Hex(prevHash + payload),
  };
}

/** One audit record and the state changes it describes. */
export interface AuditEntry {
  record: AuditInput;
  writes?: readonly StoreWrite[];
  /**
   * A conditional write run first, in the transaction that appends the record: when it changes no
   * row (another request or instance claimed it first, committed before this transaction took the
   * chain), the entry is dropped: no record, none of its writes, and it is answered `DROPPED`.
   */
  claim?: StoreWrite | undefined;
}

/** An entry on its way to the store. */
export interface PreparedEntry {
  record: PreparedRecord;
  writes: readonly StoreWrite[];
  claim?: StoreWrite | undefined;
}

/** Where a record landed in the chain. */
export interface Sealed {
  seq: number;
  hash: string;
  /** The entry was not appended: its claim changed no row (`AuditEntry.claim`). */
  dropped?: true;
}

/** The answer for an entry whose claim failed: nothing appended. */
export const DROPPED: Sealed = Object.freeze({ seq: 0, hash: '', dropped: true });

/** Each entry's answer: the sealed ones in order, `DROPPED` where `held` is false. */
export function withDropped(held: readonly boolean[], sealed: readonly Sealed[]): Sealed[] {
  let i = 0;
  return held.map((kept) => (kept ? (sealed[i++] as Sealed) : DROPPED));
}

/** Seals a batch of entries onto the chain head, in order. */
export function sealBatch(entries: readonly PreparedEntry[], head: Sealed): { rows: AuditRow[]; sealed: Sealed[] } {
  const rows: AuditRow[] = [];
  let { seq, hash } = head;
  for (const entry of entries) {
    const row = sealRecord(entry.record, seq + 1, hash);
    seq = row.seq;
    hash = row.hash;
    rows.push(row);
  }
  return { rows, sealed: rows.map((row) => ({ seq: row.seq, hash: row.hash })) };
}

/** The audit_args rows of a sealed batch: each decision's indexed argument fields under its seq. */
export function argRows(entries: readonly PreparedEntry[], rows: readonly AuditRow[]): AuditArgsRow[] {
  const out: AuditArgsRow[] = [];
  entries.forEach((entry, i) => {
    const seq = rows[i]?.seq;
    if (seq === undefined) return;
    for (const leaf of entry.record.args ?? []) out.push({ seq, path: leaf.path, text_value: leaf.text, num_value: leaf.num });
  });
  return out;
}

/** An audit record as the API shows it (GET /v1/audit, export, stream): enough to recompute its hash. */
export interface AuditRecordFields {
  seq: number;
  /** ISO time, as sealed. */
  at: string;
  type: string;
  actor: string;
  agent: string | null;
  tool: string | null;
  effect: string | null;
  rule: string | null;
  data: unknown;
  prevHash: string;
}

/**
 * The hash a record shown by the API was sealed with: sha256(prevHash + payload), payload being
 * the canonical JSON (sorted keys, no whitespace) of `{actor, agent, at, data, effect, prev_hash,
 * rule, seq, tool, type}`, exactly as `sealRecord` wrote it. A receiver of the audit stream checks
 * each record with it (hash matches) and links it to the one before (prevHash = previous hash).
 */
export function auditRecordHash(record: AuditRecordFields): string {
  const payload = canonicalJson({
    actor: record.actor,
    agent: record.agent,
    at: record.at,
    data: record.data,
    effect: record.effect,
    prev_hash: record.prevHash,
    rule: record.rule,
    seq: record.seq,
    tool: record.tool,
    type: record.type,
  });
  return sha256Hex(record.prevHash + payload);
}
