import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type Sqlite from 'better-sqlite3';
import { argLeaves } from '../../audit/arg-index.js';
import { prepareRecord, sealRecord } from '../../audit/record.js';
import { ARCHIVE_APPLICATION_ID, readTrailBase, verifyAuditFile } from '../../audit/verify-file.js';
import type { ArchivedData } from '../../audit/verify.js';
import { restoreSpanMs } from '../../services/counters.js';
import type { AuditArchiveRow } from '../schema.js';
import { fsyncFile } from './backup.js';
import { openConnection } from './connection.js';
import { migrateSqliteFile } from './sqlite-store.js';

/** Records deleted per transaction: each holds the server's writer back for a few milliseconds only. */
const DELETE_CHUNK = 2_000;

/** At least this much of the trail stays, whatever the policies: the anomaly detector's baseline. */
export const ARCHIVE_FLOOR_MS = 7 * 24 * 60 * 60 * 1000;

export interface ArchiveOptions {
  /** Archive the records made before this instant (epoch ms). */
  beforeMs: number;
  nowMs: number;
  /** Who ran it, as the `audit.archived` record's actor names it. */
  actor: string;
}

export type ArchiveOutcome =
  /** Records `from`..`through` are in the new file; the trail now starts after `through`. */
  | { kind: 'archived'; from: number; through: number; records: number; hash: string; bytes: number; attestedBy: number; clippedBy?: string }
  /** Nothing old enough (or everything old enough is held back by a forwarder); no file written. */
  | { kind: 'nothing'; reason: string }
  /** Refused before anything was written: the reason, in words. */
  | { kind: 'refused'; reason: string };

/**
 * Moves the oldest records of a server database's audit trail into a new archive file, while the
 * server runs (docs/operations.md "Archiving old records"):
 *
 * 1. The prefix is every record made before `beforeMs` that follows the current base, but never
 *    one a limit could still count (the longest limit window of any stored version, at least
 *    ARCHIVE_FLOOR_MS: counters are rebuilt from the trail at start), one a webhook forwarder has
 *    not delivered, or the newest record (the next one links to it).
 * 2. The archive is a database of the same schema (application_id ARCHIVE_APPLICATION_ID) holding
 *    those records, their argument index and the bases before them; it is verified (its chain,
 *    ending at the prefix's last hash), flushed to disk and only then given its name, which must
 *    be new.
 * 3. In one transaction on the server database: the new base row and an `audit.archived` record
 *    appended to the chain that names it, so the base cannot be written without the trail saying
 *    so. Two archives racing: the second finds the base moved and removes its file.
 * 4. The archived records are deleted, a chunk per transaction. Interrupted, the next run deletes
 *    what is left (verification starts after the base and never reads them).
 */
export async function archiveSqliteAudit(source: string, destination: string, options: ArchiveOptions): Promise<ArchiveOutcome> {
  const live = openConnection(source, { fileMustExist: true });
  try {
    if (!live.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_archives'").get()) {
      return { kind: 'refused', reason: `${source} predates archiving: start this version's server on it once (it migrates the database), then archive` };
    }
    deleteThrough(live, readTrailBase(live)?.seq ?? 0);
    const kept = refusedSpan(live.prepare('SELECT sources FROM policy_versions').all() as { sources: string }[], options);
    if (kept) return kept;
    const copied = await writeArchive(destination, (file) => copyPrefix(live, file, options.beforeMs));
    if ('kind' in copied) return copied;

    const { base, from, through, clippedBy } = copied;
    const last = { hash: copied.hash, at: copied.at };
    const data: ArchivedData = { from, through, hash: last.hash, file: basename(destination), records: through - from + 1 };
    let attestedBy: number;
    try {
      attestedBy = recordArchive(live, base, { seq: through, hash: last.hash, at: Number(last.at), first_seq: from, file: data.file, archived_at: options.nowMs }, data, options);
    } catch (error) {
      // Not recorded: the file archives nothing the trail says was archived.
      unlinkSync(destination);
      throw error;
    }
    deleteThrough(live, through);
    return { kind: 'archived', from, through, records: data.records, hash: last.hash, bytes: statSync(destination).size, attestedBy, ...(clippedBy ? { clippedBy } : {}) };
  } finally {
    live.close();
  }
}

/** The refusal of a date inside what must stay (the longest limit window of a stored version, at least ARCHIVE_FLOOR_MS); undefined when it may go. */
export function refusedSpan(versions: readonly { sources: string }[], options: ArchiveOptions): Extract<ArchiveOutcome, { kind: 'refused' }> | undefined {
  const spanMs = restoreSpanMs(versions, ARCHIVE_FLOOR_MS);
  if (options.beforeMs <= options.nowMs - spanMs) return undefined;
  return {
    kind: 'refused',
    reason: `records of the last ${formatDays(spanMs)} stay in the trail (limit counters are rebuilt from them at start${spanMs > ARCHIVE_FLOOR_MS ? ': the longest limit window of a stored policy version' : ''}); archive before ${new Date(options.nowMs - spanMs).toISOString()} or earlier`,
  };
}

/**
 * Writes an archive file: a private partial file of the server's schema, filled by `fill`,
 * verified to end at the last record copied, flushed, and only then given its name, which must be
 * new (a hard link fails when the name exists; rename would replace it). Either database's
 * archive goes through here; `fill` answers what it copied, or why nothing was.
 */
export async function writeArchive<T extends { through: number; hash: string }>(
  destination: string,
  fill: (file: string) => T | Extract<ArchiveOutcome, { kind: 'nothing' | 'refused' }> | Promise<T | Extract<ArchiveOutcome, { kind: 'nothing' | 'refused' }>>,
): Promise<T | Extract<ArchiveOutcome, { kind: 'nothing' | 'refused' }>> {
  const partial = join(dirname(destination), `.${basename(destination)}.${process.pid}-${randomBytes(6).toString('hex')}.partial`);
  closeSync(openSync(partial, 'wx', 0o600));
  let copied: T;
  try {
    await prepareArchive(partial);
    const outcome = await fill(partial);
    if ('kind' in outcome) return outcome;
    copied = outcome;
    const problem = await checkArchive(partial, { seq: copied.through, hash: copied.hash });
    if (problem) return { kind: 'refused', reason: `the archive did not verify, nothing was removed: ${problem}` };
    fsyncFile(partial, 'r+');
    linkSync(partial, destination);
  } finally {
    unlinkSync(partial);
  }
  fsyncFile(dirname(destination), 'r');
  return copied;
}

/** What one snapshot of the server database gave the archive: the prefix copied and the base it follows. */
interface Copied {
  base: AuditArchiveRow | undefined;
  from: number;
  through: number;
  hash: string;
  at: number;
  clippedBy?: string;
}

/** An empty database of the server's schema, marked as an archive (application_id). */
async function prepareArchive(file: string): Promise<void> {
  await migrateSqliteFile(file);
  const archive = openConnection(file);
  try {
    archive.pragma(`application_id = ${ARCHIVE_APPLICATION_ID}`);
  } finally {
    archive.close();
  }
}

/**
 * Chooses the prefix and copies it (records, their index rows, the earlier bases) into the archive,
 * all from one snapshot of the server database: an archive run at the same time cannot delete
 * what this one is copying. Only the archive is written; the server database is never locked.
 */
function copyPrefix(live: Sqlite.Database, file: string, beforeMs: number): Copied | Extract<ArchiveOutcome, { kind: 'nothing' | 'refused' }> {
  live.prepare('ATTACH DATABASE ? AS archive').run(file);
  try {
    return live.transaction((): Copied | Extract<ArchiveOutcome, { kind: 'nothing' | 'refused' }> => {
      const base = readTrailBase(live);
      const from = (base?.seq ?? 0) + 1;
      const newest = Number((live.prepare('SELECT max(seq) AS seq FROM main.audit').get() as { seq: number | null }).seq ?? 0);
      const firstKept = live.prepare('SELECT min(seq) AS seq FROM main.audit WHERE seq >= ? AND at >= ?').get(from, beforeMs) as { seq: number | null };
      // The longest prefix made wholly before the instant (a clock that stepped back cannot pull a
      // newer record in), and never the newest record.
      let through = Math.min(firstKept.seq === null ? newest : Number(firstKept.seq) - 1, newest - 1);
      let clippedBy: string | undefined;
      const forwarder = live.prepare('SELECT name, seq FROM main.audit_forwarders ORDER BY seq ASC LIMIT 1').get() as { name: string; seq: number } | undefined;
      if (forwarder && Number(forwarder.seq) < through) {
        through = Number(forwarder.seq);
        clippedBy = `the audit forwarder '${forwarder.name}' has delivered records up to ${through} only`;
      }
      if (through < from) {
        return { kind: 'nothing', reason: clippedBy ?? `no record before ${new Date(beforeMs).toISOString()} follows ${base ? `the last archive (record ${base.seq})` : 'the start of the trail'}` };
      }
      const last = live.prepare('SELECT hash, at FROM main.audit WHERE seq = ?').get(through) as { hash: string; at: number } | undefined;
      if (!last) return { kind: 'refused', reason: `record ${through} is missing from the trail: airlock audit verify names the damage` };
      live.prepare('INSERT INTO archive.audit SELECT * FROM main.audit WHERE seq BETWEEN ? AND ?').run(from, through);
      live.prepare('INSERT INTO archive.audit_args SELECT * FROM main.audit_args WHERE seq BETWEEN ? AND ?').run(from, through);
      live.prepare('INSERT INTO archive.audit_archives SELECT * FROM main.audit_archives').run();
      live.prepare("UPDATE archive.search_index SET seq = ? WHERE name = 'audit_args'").run(through);
      return { base, from, through, hash: last.hash, at: Number(last.at), ...(clippedBy ? { clippedBy } : {}) };
    })();
  } finally {
    live.prepare('DETACH DATABASE archive').run();
  }
}

/** Verifies the archive's chain from its base (as `airlock audit verify` would); it must end at `end`. Answers the problem, if any. */
async function checkArchive(file: string, end: { seq: number; hash: string }): Promise<string | undefined> {
  const result = await verifyAuditFile(file);
  if (!result.ok) return `record ${result.seq}: ${result.reason}`;
  if (result.head !== end.hash) return `it ends at ${result.head ?? 'nothing'}, not at record ${end.seq}'s hash ${end.hash}`;
  return undefined;
}

/**
 * Writes the new base and the `audit.archived` record naming it, in one transaction that first
 * checks that no other archive moved the base meanwhile. IMMEDIATE: the server's writer, reading
 * the head inside its own transactions, waits for it and chains after the record.
 */
function recordArchive(live: Sqlite.Database, base: AuditArchiveRow | undefined, row: AuditArchiveRow, data: ArchivedData, options: ArchiveOptions): number {
  return live.transaction(() => {
    const now = readTrailBase(live);
    if ((now?.seq ?? 0) !== (base?.seq ?? 0)) throw new Error(`another archive ran meanwhile (the trail now starts after record ${now?.seq ?? 0}); run it again`);
    const head = live.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string };
    live
      .prepare('INSERT INTO audit_archives (seq, hash, at, first_seq, file, archived_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(row.seq, row.hash, row.at, row.first_seq, row.file, row.archived_at);
    const record = sealRecord(prepareRecord({ type: 'audit.archived', at: options.nowMs, actor: options.actor, data: { ...data } }), Number(head.seq) + 1, head.hash);
    live
      .prepare('INSERT INTO audit (seq, at, type, actor, agent, tool, effect, rule, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(record.seq, record.at, record.type, record.actor, record.agent, record.tool, record.effect, record.rule, record.payload, record.prev_hash, record.hash);
    return record.seq;
  }).immediate();
}

/**
 * Deletes every record up to `through` and its argument index rows, a chunk per transaction. The
 * index rows are found by their primary key (path, value, seq), recomputed from the records'
 * payloads as the writer made them: audit_args has no index on seq alone, and a range delete on it
 * would scan the whole table per chunk while holding the server's writer back.
 */
function deleteThrough(live: Sqlite.Database, through: number): void {
  const oldest = live.prepare('SELECT min(seq) AS seq FROM audit').get() as { seq: number | null };
  if (oldest.seq === null || Number(oldest.seq) > through) return;
  const decisions = live.prepare("SELECT seq, payload FROM audit WHERE seq BETWEEN ? AND ? AND type = 'decision'");
  const arg = live.prepare('DELETE FROM audit_args WHERE path = ? AND text_value = ? AND seq = ?');
  const records = live.prepare('DELETE FROM audit WHERE seq BETWEEN ? AND ?');
  const chunk = live.transaction((low: number, high: number, leaves: { seq: number; path: string; text: string }[]) => {
    for (const leaf of leaves) arg.run(leaf.path, leaf.text, leaf.seq);
    records.run(low, high);
  });
  for (let low = Number(oldest.seq); low <= through; low += DELETE_CHUNK) {
    const high = Math.min(through, low + DELETE_CHUNK - 1);
    // Read before the transaction: archived records do not change.
    const leaves = (decisions.all(low, high) as { seq: number; payload: string }[]).flatMap(({ seq, payload }) =>
      argLeaves((JSON.parse(payload) as { data?: { request?: { args?: unknown } } }).data?.request?.args).map((leaf) => ({ seq: Number(seq), path: leaf.path, text: leaf.text })),
    );
    chunk.immediate(low, high, leaves);
  }
}

function formatDays(ms: number): string {
  const days = ms / (24 * 60 * 60 * 1000);
  return Number.isInteger(days) ? `${days} days` : `${days.toFixed(1)} days`;
}
